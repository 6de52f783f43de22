"""Scripted models for the crosscheck tests: each knows a controlled set of problems.

Only the model API boundary is mocked (Inspect's mockllm with an input-dependent
``custom_outputs``). A scripted model *knows* a problem with probability ``p``, decided by
a hash of (its knowledge seed, the problem id) -- two models with the same knowledge seed
make exactly the same errors (perfectly correlated), different seeds independent ones.
It answers what it knows correctly and everything else with one fixed wrong answer.
"""

from __future__ import annotations

import hashlib
import re

from inspect_ai.model import ChatMessageAssistant, ModelOutput, ModelUsage, get_model

from rdbench.crosscheck.checking import answer_key, extract_answer
from rdbench.crosscheck.problems import Problem
from rdbench.crosscheck.task import problem_from_id

_ID = re.compile(r"\[problem (cc-[a-z]+-\d+-\d+)\]")


def knows(knowledge_seed: int, problem_id: str, p: float) -> bool:
    digest = hashlib.sha256(f"{knowledge_seed}:{problem_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < p


def wrong_answer(problem: Problem) -> str:
    if problem.kind == "number":
        return repr(float(problem.answer) + 1.0 + abs(float(problem.answer)))
    if problem.kind == "set":
        return "none" if problem.answer != "none" else "Ada, Bo, Cy, Dee, Eli, Fay"
    if problem.kind == "expression":
        return "x**17 + 5"
    return f"def {problem.function}(*args):\n    return 'wrong'\n"


def reply(problem: Problem, answer: str) -> str:
    if problem.kind == "code":
        return f"Here it is.\n```python\n{answer}```"
    return f"Working it out.\nANSWER: {answer}"


def _usage() -> ModelUsage:
    return ModelUsage(input_tokens=200, output_tokens=50, total_tokens=250)


def scripted_model(name: str, *, p: float, knowledge_seed: int, verifier: str = "discerning"):
    """A mockllm model: solver and verifier behaviour as the module docstring says.

    verifier: ``discerning`` (flags an answer that differs from what it believes, and says
    what it believes), ``reject_all`` (flags everything, with no suggested answer) or
    ``accept_all``.
    """

    def own_answer(problem: Problem) -> str:
        return problem.answer if knows(knowledge_seed, problem.id, p) else wrong_answer(problem)

    def outputs(input, tools, tool_choice, config):  # noqa: A002 - Inspect's signature
        text = "\n".join(m.text for m in input)
        problem = problem_from_id(_ID.search(text).group(1))
        last = input[-1].text
        if "PROPOSED SOLUTION" in last:  # asked to verify
            proposed = extract_answer(last.split("PROPOSED SOLUTION:", 1)[1], problem)
            mine = own_answer(problem)
            if verifier == "reject_all":
                content = "VERDICT: INCORRECT\nI am not convinced."
            elif verifier == "accept_all" or answer_key(proposed, problem) == answer_key(
                mine, problem
            ):
                content = "VERDICT: CORRECT"
            else:
                content = f"VERDICT: INCORRECT\nThe right answer is:\n{reply(problem, mine)}"
        elif "A reviewer believes" in last:  # asked to revise
            if knows(knowledge_seed, problem.id, p):
                content = reply(problem, problem.answer)
            else:
                suggested = extract_answer(last.split("right answer is:", 1)[-1], problem)
                content = reply(problem, suggested if suggested else wrong_answer(problem))
        else:  # solving, or re-checking its own answer (keeps it)
            content = reply(problem, own_answer(problem))
        out = ModelOutput.from_content(name, content)
        out.usage = _usage()
        return out

    return get_model(f"mockllm/{name}", custom_outputs=outputs, memoize=False)


__all__ = ["ChatMessageAssistant", "knows", "scripted_model", "wrong_answer"]
