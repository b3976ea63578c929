# ruff: noqa: E501  (vocabulary data: long strings read better unwrapped)
"""Templates for legitimate templated workloads (batch jobs, eval harnesses, students, translation).

These overlap with attack vocabulary on purpose: students and eval harnesses ask for
step-by-step reasoning too, which is exactly why phrase matching fails.
"""

from __future__ import annotations

RULES: dict[str, list[str]] = {
    # Each batch job uses ONE of these templates (picked per account) with a varying document.
    "batch_template": [
        "Summarize the following document in {int:2-5} bullet points:\n\n{doc}",
        "Classify the following support ticket into one of: billing, bug, feature_request, account, other. "
        "Answer with the label only.\n\nTicket: {doc}",
        "Extract all company names, people and dates from the text below as JSON.\n\n{doc}",
        "Rate the sentiment of this review from 1 (very negative) to 5 (very positive). Reply with a number.\n\n{doc}",
        "Write a one-sentence title for this article:\n{doc}",
        "Does the following text contain personally identifiable information? Answer yes or no.\n{doc}",
    ],
    # Eval harness items: a fixed few-shot/CoT template per benchmark, varying question.
    "eval_template": [
        "Question: {eval_q}\nA) {int:1-99}\nB) {int:1-99}\nC) {int:1-99}\nD) {int:1-99}\nAnswer with the letter only.",
        "Q: {eval_q}\nA: Let's think step by step.",
        "Solve the following problem. Show your reasoning, then give the final answer after '####'.\n{eval_q}",
        "You are being evaluated. {eval_q}\nRespond with 'True' or 'False'.",
    ],
    "eval_q": [
        "Natalia sold clips to {int:10-90} of her friends in April, and then she sold half as many in May. "
        "How many clips did she sell altogether?",
        "A rectangle has a perimeter of {int:20-200} cm and a width of {int:2-9} cm. What is its area?",
        "Which of the following is a prime number?",
        "What is {int:12-99} multiplied by {int:12-99}?",
        "Is the statement '{int:2-50} is divisible by {int:2-9}' correct?",
        "Tom has {int:2-30} apples and gives away {int:1-9}. He then buys {int:2-12} more. How many does he have?",
        "Which planet is the {int:1-8}th from the sun?",
        "If f(x) = {int:2-9}x^2 + {int:1-9}, what is f({int:1-12})?",
    ],
    # Student phrasing around real questions (the hard negative for CoT phrase matching).
    "student_wrap": [
        "{real}",
        "Can you explain step by step? {real}",
        "{real} Please show your work, I have an exam tomorrow.",
        "I don't understand this homework question, can you walk me through it step by step? {real}",
        "{real} explain like I'm a first year student pls",
        "How do I solve this? {real} Show the steps.",
    ],
    "translate": [
        "Translate the following text from {src} to {dst}. Keep formatting.\n\n{doc}",
        "Translate to {dst}:\n{doc}",
        "Please provide a {dst} translation of this {src} text, preserving names:\n{doc}",
    ],
    "src": ["English"],
    "dst": [
        "German",
        "French",
        "Spanish",
        "Japanese",
        "Chinese",
        "Portuguese",
        "Korean",
        "Italian",
        "Russian",
    ],
}
