"""The cross-provider verification eval as Inspect tasks: problems, protocols, scorer.

Protocols (the ``arm`` of a task), each an Inspect solver:

- ``single``: the solver model answers once.
- ``self_check``: the same model reviews its answer and may revise it.
- ``verify``: a second model (the ``verifier`` model role) reviews the answer and its
  reasoning and either accepts it or flags an error with a reason; when flagged, the
  solver may revise. Run for every ordered pair of models; a pair is ``same_family`` when
  both models come from one provider, else ``cross_provider``.
- ``self_consistency``: the compute-matched control -- ``n`` independent answers of the
  solver model, majority vote (code by identical behaviour on the hidden inputs), with
  ``n`` chosen so the arm spends about what the verification arm spent.

Every model call's tokens are in the sample's model usage (Inspect records them per model);
the scorer records, besides the final verdict, the first answer's correctness and the
verifier's flag, so that its true- and false-positive rates can be computed.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Literal

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageSystem, ChatMessageUser, get_model
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Target, accuracy, scorer, stderr
from inspect_ai.solver import Generate, TaskState, solver

from rdbench.crosscheck.checking import (
    answer_key,
    check_answer,
    code_outputs,
    extract_answer,
    outputs_correct,
)
from rdbench.crosscheck.problems import Problem, generate_problem, generate_suite

__all__ = [
    "ARMS",
    "Arm",
    "crosscheck",
    "crosscheck_scorer",
    "pairing",
    "problem_from_id",
    "protocol_solver",
]

Arm = Literal["single", "self_check", "verify", "self_consistency"]
ARMS: tuple[Arm, ...] = ("single", "self_check", "verify", "self_consistency")
SCORER = "crosscheck_scorer"

SYSTEM = (
    "You solve technical problems carefully. Work step by step, then give your final answer "
    "on the last line as 'ANSWER: <answer>'. For a programming problem, give the complete "
    "function in one ```python code block instead."
)
SELF_CHECK = (
    "Check your solution carefully for mistakes in reasoning and arithmetic. If you find "
    "one, correct it; otherwise keep your answer. End in the same format as before."
)
VERIFY = (
    "You are reviewing another model's solution to a problem.\n\nPROBLEM:\n{problem}\n\n"
    "PROPOSED SOLUTION:\n{solution}\n\nCheck the solution independently. If its final answer "
    "is correct, reply with the line 'VERDICT: CORRECT'. If it is wrong, reply with the line "
    "'VERDICT: INCORRECT', then the reason, and the answer you believe is correct."
)
REVISE = (
    "A reviewer believes your answer is wrong:\n\n{review}\n\nReconsider the problem. You may "
    "keep your answer if you are sure it is right. End in the same format as before."
)
_VERDICT = re.compile(r"VERDICT\s*:\s*\**\s*(CORRECT|INCORRECT)", re.IGNORECASE)


def problem_from_id(problem_id: str) -> Problem:
    """Regenerate a problem from its id (``cc-<domain>-<seed>-<index>``).

    Raises:
        ValueError: not a crosscheck problem id.
    """
    match = re.fullmatch(r"cc-([a-z]+)-(\d+)-(\d+)", problem_id)
    if match is None:
        raise ValueError(f"not a crosscheck problem id: {problem_id!r}")
    return generate_problem(match.group(1), int(match.group(3)), int(match.group(2)))  # type: ignore[arg-type]


def provider(model: str) -> str:
    """The provider part of an Inspect model name (``openai/gpt-4o`` -> ``openai``)."""
    return model.split("/", 1)[0]


def pairing(solver_model: str, verifier_model: str) -> str:
    """``self`` (one model), ``same_family`` (one provider) or ``cross_provider``."""
    if solver_model == verifier_model:
        return "self"
    return "same_family" if provider(solver_model) == provider(verifier_model) else "cross_provider"


def _sample(problem: Problem) -> Sample:
    # The id line lets a reader of the transcript (and scripted test models) know the
    # problem; it carries nothing about the answer.
    text = f"[problem {problem.id}]\n{problem.prompt}"
    return Sample(id=problem.id, input=text, target="hidden", metadata=problem.public())


async def _answer(state: TaskState, generate: Generate) -> str:
    state = await generate(state)
    return state.output.completion


@solver
def protocol_solver(arm: Arm = "single", samples: int = 1):
    """The solver of one protocol (see the module docstring).

    Args:
        arm: the protocol.
        samples: self-consistency's number of independent answers.
    """

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state.messages.insert(0, ChatMessageSystem(content=SYSTEM))
        store = state.metadata.setdefault("crosscheck", {})
        if arm == "self_consistency":
            answers = []
            for _ in range(max(1, samples)):
                output = await get_model().generate(state.messages)
                answers.append(output.completion)
            store["answers"] = answers
            return state
        first = await _answer(state, generate)
        store["initial"] = first
        if arm == "self_check":
            state.messages.append(ChatMessageUser(content=SELF_CHECK))
            await _answer(state, generate)
        elif arm == "verify":
            problem_text = state.input_text
            review = await get_model(role="verifier").generate(
                [ChatMessageUser(content=VERIFY.format(problem=problem_text, solution=first))]
            )
            verdict = _VERDICT.findall(review.completion)
            store["review"] = review.completion
            store["verdict"] = verdict[-1].upper() if verdict else "UNPARSABLE"
            if store["verdict"] == "INCORRECT":
                state.messages.append(ChatMessageUser(content=REVISE.format(
                    review=review.completion)))
                await _answer(state, generate)
        return state

    return solve


def _majority(answers: list[str], problem: Problem) -> tuple[str, int, bool]:
    """The majority answer's text, its votes, and whether it is correct."""
    if problem.kind == "code":
        keyed = []
        for text in answers:
            code = extract_answer(text, problem)
            outputs = code_outputs(code, problem)[0] if code else None
            keyed.append((repr(outputs) if outputs is not None else None, text, outputs))
        counts = Counter(key for key, _, _ in keyed if key is not None)
        if not counts:
            return answers[0], 0, False
        best, votes = counts.most_common(1)[0]
        text, outputs = next((t, o) for k, t, o in keyed if k == best)
        return text, votes, outputs_correct(outputs, problem)
    keys = [answer_key(extract_answer(text, problem), problem) for text in answers]
    counts = Counter(k for k in keys if k is not None)
    if not counts:
        return answers[0], 0, False
    best, votes = counts.most_common(1)[0]
    text = answers[keys.index(best)]
    return text, votes, check_answer(text, problem).correct


@scorer(metrics=[accuracy(), stderr()], name=SCORER)
def crosscheck_scorer():
    """Checks the final answer exactly; records the first answer and the verifier's flag."""

    async def score(state: TaskState, target: Target) -> Score:
        problem = problem_from_id(str(state.metadata["problem_id"]))
        store = state.metadata.get("crosscheck", {})
        meta: dict[str, Any] = {"domain": problem.domain, "difficulty": problem.difficulty}
        if "answers" in store:
            text, votes, correct = _majority(store["answers"], problem)
            meta.update(n_samples=len(store["answers"]), votes=votes)
            parsed = extract_answer(text, problem)
            meta["parse_ok"] = parsed is not None
        else:
            text = state.output.completion
            result = check_answer(text, problem)
            correct, parsed = result.correct, result.parsed
            meta["parse_ok"] = result.parse_ok
            meta["detail"] = result.detail
            if "initial" in store:
                first = check_answer(store["initial"], problem)
                meta["initial_correct"] = first.correct
                meta["initial_parse_ok"] = first.parse_ok
            if "verdict" in store:
                meta["verdict"] = store["verdict"]
                meta["flagged"] = store["verdict"] == "INCORRECT"
        return Score(value=CORRECT if correct else INCORRECT, answer=(parsed or "")[:2000],
                     metadata=meta)

    return score


@task
def crosscheck(
    problems: int = 300,
    seed: int = 0,
    arm: str = "single",
    samples: int = 1,
    domains: str = "",
) -> Task:
    """Cross-provider verification problems under one protocol (see the module docstring).

    Run the solver model with ``--model``; the ``verify`` arm also needs
    ``--model-role verifier=<model>``. Example:
    ``inspect eval rdbench/crosscheck -T arm=verify --model openai/gpt-4o
    --model-role verifier=anthropic/claude-sonnet-4-0``.

    Args:
        problems: suite size (spread evenly over the six domains).
        seed: suite seed (a new seed is a new, unseen suite).
        arm: single, self_check, verify or self_consistency.
        samples: answers per problem for self_consistency.
        domains: comma-separated subset of domains (default all).

    Raises:
        ValueError: an unknown arm or domain.
    """
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r}: one of {', '.join(ARMS)}")
    suite = generate_suite(problems, seed)
    if domains:
        wanted = {d.strip() for d in domains.split(",") if d.strip()}
        unknown = wanted - {p.domain for p in suite}
        if unknown:
            raise ValueError(f"unknown domain(s) {', '.join(sorted(unknown))}")
        suite = [p for p in suite if p.domain in wanted]
    return Task(
        name=f"crosscheck_{arm}",
        dataset=MemoryDataset([_sample(p) for p in suite], name=f"crosscheck-{seed}"),
        solver=protocol_solver(arm=arm, samples=samples),  # type: ignore[arg-type]
        scorer=crosscheck_scorer(),
        metadata={"rdbench_crosscheck": {"arm": arm, "samples": samples, "seed": seed,
                                         "problems": problems, "domains": domains}},
    )
