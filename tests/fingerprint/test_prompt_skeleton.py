from distillguard.fingerprint.prompt_skeleton import skeleton, skeleton_hash, system_prompt_hash

TEMPLATE = 'Solve the following problem from {who}: "{quote}" The answer is {n}. See {url} or mail {mail}.'


def _fill(who: str, quote: str, n: str, url: str, mail: str) -> str:
    return TEMPLATE.format(who=who, quote=quote, n=n, url=url, mail=mail)


def test_templated_prompts_share_a_skeleton() -> None:
    a = _fill("Alice Walker", "what is 2+2", "4", "https://a.example/x?q=1", "alice@example.com")
    b = _fill("Boris", "integrate x dx", "0.5", "http://www.other.org/", "b.b@mail.co.uk")
    assert a != b
    assert skeleton(a) == skeleton(b)
    assert skeleton_hash(a) == skeleton_hash(b)


def test_masks_each_kind_of_variable_part() -> None:
    text = "Please ask Marie about 'the plan' at 10:30, then open www.x.io\n```py\nprint(1)\n```"
    skel = skeleton(text)
    assert skel == "please ask <name> about <q> at <n>, then open <url> <code>"


def test_sentence_initial_words_are_kept_and_lowercased() -> None:
    assert skeleton("Explain gravity. Then explain light.") == "explain gravity. then explain light."


def test_different_prompts_do_not_collide() -> None:
    prompts = [
        "What is the capital of France?",
        "Explain the theory of relativity in simple terms.",
        "Write a haiku about autumn leaves.",
        "How do I reverse a list in Python?",
        "Translate 'good morning' into German.",
        "Summarize this article for me.",
    ]
    assert len({skeleton_hash(p) for p in prompts}) == len(prompts)


def test_chinese_numbers_and_quotes_are_masked() -> None:
    assert skeleton("计算「三加五」等于多少，答案是8") == skeleton("计算「七加九」等于多少，答案是16")


def test_long_prompts_are_bounded() -> None:
    head = "Classify the sentiment of this review: "
    assert skeleton_hash(head + "x " * 5000 + "one") == skeleton_hash(head + "x " * 5000 + "two")


def test_system_prompt_hash_is_the_gateways_sha256_prefix() -> None:
    import hashlib

    text = "You are helpful.\n"
    assert system_prompt_hash(text) == hashlib.sha256(text.encode()).hexdigest()[:16]
    assert system_prompt_hash("You are helpful.") != system_prompt_hash("You are terse.")


def test_utf8_is_surrogatepass_utf8() -> None:
    from distillguard.fingerprint.prompt_skeleton import utf8

    for text in ("", "ascii", "é 数据 🙂", "lone \ud800 surrogate", "\udc80"):
        assert utf8(text) == text.encode("utf-8", "surrogatepass")
