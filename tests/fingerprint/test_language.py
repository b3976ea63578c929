import pytest

from distillguard.fingerprint.language import lang


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("What is the best way to learn a new language?", "en"),
        ("¿Cuál es la mejor manera de aprender un idioma nuevo?", "es"),
        ("Wie lerne ich am besten eine neue Sprache?", "de"),
        ("Quelle est la meilleure façon d'apprendre une nouvelle langue ?", "fr"),
        ("Qual é a melhor maneira de aprender uma nova língua? Você sabe?", "pt"),
        ("学习一门新语言的最好方法是什么？", "zh"),
        ("新しい言語を学ぶ一番の方法は何ですか？", "ja"),
        ("새로운 언어를 배우는 가장 좋은 방법은?", "ko"),
        ("Как лучше всего выучить новый язык?", "ru"),
        ("Як найкраще вивчити нову мову? Їжак", "uk"),
        ("Ποιος είναι ο καλύτερος τρόπος;", "el"),
        ("12345 + 678", "und"),
    ],
)
def test_lang_tags(text: str, tag: str) -> None:
    assert lang(text) == tag


def test_code_in_a_chinese_prompt_stays_chinese() -> None:
    assert lang("请解释这段代码的作用：print('hello world') for x in range(3)") == "zh"
