"""Multilingual cue lexicons for the intent scores and the language tag.

Written from general knowledge of how people phrase these requests in English, Chinese,
Spanish, Russian, German and French. Deliberately NOT derived from the simulator's
vocabularies (distillguard.sim.text): detection quality is measured on held-out
scenarios, so the detector must not know the simulator's phrasings.

Syntax of a cue (all lowercase; matched on the lowercased prompt):
- a cue is a literal; it must start at a word start (except CJK cues, which match anywhere);
- a cue is a *stem* by default: "рассужд" matches "рассуждения", "рассуждай", ...;
  that prefix matching is what lets a few hundred cues cover inflected languages;
- a trailing "$" means the word must end there ("rate$" does not match "rated").
Cues for Latin-script languages are also matched without accents ("explicame").

A family is one kind of evidence; the weights in `intent.py` combine families. Family
names start with their intent: cot_*, rub_*, dg_*; lang_* are stopwords for `lang()`.
"""

from __future__ import annotations

# Compact layout on purpose: one cue per line would be 1,300 lines.
# fmt: off

# --- chain-of-thought elicitation -------------------------------------------------------------
# Asking the model to externalize its reasoning (not just to answer, and not a how-to list).
# Imperatives that by themselves ask the model to externalize its reasoning.
COT_ELICIT = [
    # en
    "reason through", "reason it out", "reason about it", "reason carefully", "reason step",
    "reason aloud", "reason out loud", "chain of thought", "chain-of-thought", "cot$", "inner monologue",
    "internal monologue", "internal reasoning", "scratchpad", "scratch pad", "show your work",
    "show your working", "show the work", "show the math", "show your reasoning", "show your steps",
    "show all work", "show all steps", "show all your", "think through", "think it through",
    "think aloud", "think out loud", "think step", "think before", "think carefully before",
    "let's think", "lets think", "let us think", "let's reason", "let's work", "work it out",
    "work this out", "work through", "think it over", "<think", "<reasoning", "<scratchpad",
    "thinking tags", "how you got", "how you arrived", "how you reached", "how you came to",
    "how you derived", "how did you get", "how did you arrive", "the logic you", "why each",
    # zh
    "思维链", "一步一步地思考", "一步一步思考", "一步步思考", "逐步思考", "逐步推理", "一步一步推理",
    "先思考", "出声思考", "展示推理", "写出推理", "推理过程", "思考过程", "解题过程", "你是如何得出",
    "怎么得出", "如何得出", "把推理", "先推理",
    # es
    "razona", "piensa en voz alta", "en voz alta", "piensa paso", "pensemos", "cómo llegaste",
    "cómo llegó", "cómo has llegado", "muestra tu trabajo", "muestra tu razonamiento",
    # ru
    "порассужд", "рассуждай", "рассуждайте", "вслух", "ход мысл", "ход решени", "ход рассуждени",
    "как ты пришел", "как ты пришёл", "как вы пришли", "как ты получил", "как вы получили",
    "цепочку рассуждений", "цепочка рассуждений",
    # de
    "denk laut", "denke laut", "überlege laut", "überleg laut", "laut nach", "denk schrittweise",
    "denke schrittweise", "wie du darauf gekommen", "wie sie darauf gekommen", "wie du auf",
    "lass uns nachdenken", "lass uns überlegen", "zeige deinen rechenweg", "zeig deinen rechenweg",
    # fr
    "à voix haute", "raisonne", "réfléchis étape", "comment tu es arrivé", "comment vous êtes arrivé",
    "montre ton raisonnement", "montre ton travail", "montrez votre raisonnement",
]

# Reasoning nouns and verbs: evidence, but also ordinary words ("logic", "理由").
COT_REASON = [
    # en
    "reasoning", "rationale", "thought process", "thinking process", "train of thought",
    "line of thought", "your work$", "your working", "the working$", "workings$", "justify",
    "justification", "derivation", "think carefully", "think hard", "think deeply",
    "intermediate steps", "intermediate reasoning", "your logic", "deliberate", "reflect on",
    "explain why", "explain how you", "methodically", "systematically",
    # zh
    "推理", "思维过程", "思路", "推导", "计算过程", "理由", "想一想", "仔细思考", "认真思考", "思考一下",
    "中间步骤", "论证",
    # es
    "razonamiento", "razones detr", "proceso de pensamiento", "proceso mental", "tu lógica",
    "su lógica", "justifica", "derivación", "piensa con cuidado", "piensa detenidamente",
    "reflexiona", "desarrollo completo", "pasos intermedios",
    # ru
    "рассужд", "цепочк", "логику", "обоснуй", "обоснуйте", "обосновани", "подумай", "подумайте",
    "размышля", "поразмысл", "промежуточн", "вывод решения",
    # de
    "gedankengang", "gedankengänge", "begründ", "denkprozess", "denkweg", "lösungsweg", "rechenweg",
    "herleitung", "überlegung", "überlege", "denk nach", "denke nach", "denk sorgfältig",
    "denke sorgfältig", "deine logik", "zwischenschritte",
    # fr
    "raisonnement", "démarche", "cheminement", "réflexion", "ta logique", "votre logique",
    "justifie", "réfléchis", "réfléchissez", "pense à voix haute", "pensez à voix haute",
    "processus de pensée", "processus de réflexion", "étapes intermédiaires",
]

# "Not just the answer": the user wants the process, not only the result.
COT_NOT_JUST = [
    "not just the answer", "not only the answer", "don't just give", "do not just give",
    "don't just want the answer", "don't just tell me", "not just the final", "not just the result",
    "rather than just", "instead of just", "don't jump", "do not jump", "before you commit",
    "不要直接给", "别直接给", "不要只给", "别只给", "不只是答案", "不要急于",
    "no me des solo", "no des solo", "no solo la respuesta", "no solo el resultado", "no te apresures",
    "не просто ответ", "не только ответ", "не торопись", "не спеши", "не давай сразу",
    "nicht nur das ergebnis", "nicht nur die antwort", "gib nicht nur", "nicht sofort",
    "pas seulement le résultat", "pas seulement la réponse", "ne donne pas seulement",
    "ne te précipite pas", "pas juste la réponse",
]

COT_STEP_STRONG = [
    "stage by stage", "one stage at a time", "piece by piece",
    "step by step", "step-by-step", "one step at a time", "stepwise", "step after step", "一步一步",
    "一步步", "逐步", "分步", "paso a paso", "paso por paso", "шаг за шагом", "пошагов", "по шагам",
    "schritt für schritt", "schrittweise", "schritt-für-schritt", "étape par étape", "pas à pas",
]

COT_STEP_WEAK = [
    "each calculation", "every calculation", "each stage", "each move", "each deduction",
    "每个计算", "cada cálculo", "каждый переход", "каждое действие", "jede rechnung", "chaque calcul",
    # German compounds: the word boundary hides "schritt" inside them
    "rechenschritt", "lösungsschritt", "zwischenschritt", "denkschritt", "einzelschritt",
    "arbeitsschritt",
    "each step", "every step", "steps$", "step$", "intermediate", "步骤", "每一步", "每个步骤",
    "cada paso", "pasos$", "paso$", "каждый шаг", "каждого шага", "шаги$", "шагов$", "шагам$",
    "jeden schritt", "jeder schritt", "schritte$", "chaque étape", "étapes$",
]

COT_SHOW = [
    "enséña", "enseña", "tell me why", "walk me", "take me through",
    # stems that also cover gerunds/infinitives: mostrando, montrant, показывая, ...
    "mostr", "muestr", "explicando", "detall", "desglos", "montr", "expliqu", "détaill", "décompos",
    "показ", "расписыва", "объясня",
    "show$", "show me", "show us", "showing$", "walk me through", "walk us through", "walk through",
    "write out", "write down", "lay out", "spell out", "articulate", "explain", "detail",
    "break it down", "break down", "outline", "describe", "elaborate", "verbalize", "verbalise",
    "display", "reveal", "include your", "present your", "give your", "展示", "写出", "列出", "说明",
    "解释", "详细", "给出", "阐述", "描述", "展现", "讲解", "muestra", "muéstra", "explica", "explíca",
    "detalla", "desglosa", "describe", "expón", "escribe", "incluye", "presenta", "indica", "покаж",
    "объясн", "распиш", "опиш", "излож", "продемонстр", "выпиш", "приведи", "напиши", "zeig", "erklär",
    "erläuter", "beschreib", "schreib", "leg dar", "lege dar", "darleg", "führ mich", "führe mich",
    "stell dar", "stelle dar", "gib deine", "montre", "explique", "détaille", "décompose", "décris",
    "décrivez", "expose", "écris", "écrivez", "présente", "développe", "indique",
]

COT_FINAL = [
    "final answer", "the answer at the end", "before you answer", "before answering", "before giving",
    "before you respond", "before responding", "before replying", "then give the answer",
    "then give your answer", "then state", "then provide the answer", "boxed", "\\boxed",
    "end with the answer", "end with your answer", "conclude with", "answer:", "final result",
    "最终答案", "最后的答案", "最后答案", "再给出", "然后给出", "在回答之前", "回答前", "得出结论",
    "最终结果", "respuesta final", "antes de responder", "antes de dar", "luego da la respuesta",
    "resultado final", "окончательн", "итоговый ответ", "итоговым ответом", "прежде чем ответить",
    "перед тем как ответить", "перед ответом", "финальный ответ", "endgültige antwort", "endergebnis",
    "endantwort", "bevor du antwortest", "bevor sie antworten", "vor der antwort", "réponse finale",
    "avant de répondre", "puis donne", "résultat final",
]

COT_PROBLEM = [
    "solve", "calculate", "compute", "prove$", "proof", "problem", "equation", "puzzle", "riddle",
    "math", "how many", "how much", "解答", "求解", "计算", "证明", "方程", "题目", "这道题", "多少",
    "resuelve", "resolver", "calcula", "demuestra", "problema", "ecuación", "acertijo", "cuántos",
    "cuántas", "реши", "решени", "вычисл", "посчитай", "докаж", "задач", "уравнени", "загадк",
    "сколько", "löse", "berechne", "beweise", "aufgabe", "gleichung", "rätsel", "wie viele",
    "wie viel", "résous", "résoudre", "calcule", "démontre", "prouve", "problème", "équation",
    "énigme", "combien",
]

# The model's own answer as the object of a reasoning verb ("justify your answer").
COT_SELF = [
    "your answer", "your solution", "your conclusion", "your response", "your result",
    "你的答案", "你的回答", "你的结论", "你的解答",
    "tu respuesta", "tu solución", "tu conclusión", "su respuesta",
    "свой ответ", "твой ответ", "ваш ответ", "своё решение", "свое решение", "твоё решение",
    "deine antwort", "deine lösung", "ihre antwort", "dein ergebnis",
    "ta réponse", "votre réponse", "ta solution", "ta conclusion",
]

# Negative evidence: procedural how-to requests also say "step by step".
COT_PROCEDURE = [
    "instructions", "tutorial", "guide$", "recipe", "how do i install", "how to install",
    "how to set up", "how to setup", "how to configure", "how do i set up", "installation",
    "how to make", "how to cook", "how to bake", "how to build", "how to create", "how to use",
    "how to deploy", "how do i make", "how do i create", "how do i use", "set up", "install", "教程",
    "指南", "安装", "配置", "食谱", "菜谱", "怎么做", "如何制作", "instrucciones", "tutorial", "guía",
    "receta", "instalar", "configurar", "cómo hacer", "инструкци", "руководств", "рецепт", "установ",
    "настро", "как сделать", "как приготовить", "anleitung", "rezept", "installier", "einricht",
    "konfigurier", "wie mache ich", "tutoriel", "recette", "installer", "configurer", "comment faire",
]

# --- rubric / reward-model grading ------------------------------------------------------------
# The model is asked to judge outputs (often another model's) against criteria.
RUB_GRADE = [
    "besser ist", "besser sind", "welche antwort", "welcher ist besser", "cuál respuesta",
    "какой из ответов", "laquelle est la meilleure", "哪个回答",
    "grade$", "grading", "score$", "scores$", "scoring", "rate$", "rate the", "rate this",
    "rate these", "rate each", "rate them", "rate it", "rate how", "rating", "ratings", "evaluate",
    "evaluation", "assess", "judge", "judging", "rank$", "rank the", "ranking", "critique",
    "which is better", "which one is better", "which response is better", "which answer is better",
    "better response", "better answer", "prefer", "preference", "pairwise", "reward", "评分", "打分",
    "评估", "评价", "评判", "排名", "排序", "哪个更好", "哪一个更好", "更好的回答", "偏好", "奖励",
    "分数", "califica", "calificación", "puntúa", "puntuación", "puntaje", "evalúa", "evaluación",
    "clasifica", "juzga", "valora", "cuál es mejor", "mejor respuesta", "preferi", "recompensa",
    "оцени", "оценк", "оценив", "ранжир", "балл", "какой ответ лучше", "лучший ответ", "предпочт",
    "вознагражд", "суди", "bewert", "benot", "beurteil", "rangfolge", "einstuf", "punktzahl",
    "ist besser", "bessere antwort", "bevorzug", "belohnung", "noter$", "notez", "note cette",
    "note ces", "note chaque", "notation", "évalu", "classe les", "classez", "juge$", "jugez",
    "lequel est meilleur", "laquelle est meilleure", "meilleure réponse", "préfér", "récompense",
]

RUB_TARGET = [
    "response", "answer", "output", "completion", "reply", "replies", "candidate", "submission",
    "assistant", "essay", "generation", "summary", "summaries", "translation", "chatbot", "回答",
    "回复", "答案", "输出", "作文", "翻译", "摘要", "助手", "respuesta", "salida", "candidat",
    "redacción", "traducción", "resumen", "asistente", "ответ", "вывод", "результат", "сочинени",
    "перевод", "ассистент", "antwort", "ausgabe", "kandidat", "aufsatz", "übersetzung",
    "zusammenfassung", "assistent", "réponse", "sortie", "candidat", "rédaction", "dissertation",
    "traduction", "résumé", "assistant",
]

RUB_CRITERIA = [
    "criteria", "criterion", "rubric", "scale of", "scale from", "on a scale", "out of 10", "out of 5",
    "out of 100", "likert", "helpfulness", "harmlessness", "honesty", "accuracy", "correctness",
    "coherence", "fluency", "relevance", "factuality", "faithfulness", "1-10", "1-5", "1 to 10",
    "1 to 5", "0 to 10", "0-10", "/10", "/5", "标准", "维度", "分制", "满分", "准确性", "相关性",
    "流畅性", "有用性", "连贯性", "1到10", "1-10分", "criterio", "rúbrica", "escala", "del 1 al",
    "de 1 a", "sobre 10", "precisión", "relevancia", "coherencia", "fluidez", "utilidad", "критери",
    "шкал", "от 1 до", "от 0 до", "из 10", "точност", "релевантн", "связност", "полезност", "беглост",
    "kriteri", "bewertungsraster", "skala", "von 1 bis", "von 0 bis", "genauigkeit", "relevanz",
    "kohärenz", "hilfsbereitschaft", "nützlichkeit", "critère", "critere", "grille", "échelle",
    "de 1 à", "de 0 à", "sur 10", "sur 5", "précision", "pertinence", "cohérence", "fluidité",
    "utilité",
]

RUB_PAIR = [
    "response a$", "response b$", "response 1$", "response 2$", "answer a$", "answer b$", "answer 1$",
    "answer 2$", "output a$", "output b$", "output 1$", "output 2$", "assistant a$", "assistant b$",
    "model a$", "model b$", "[[a]]", "[[b]]", "two responses", "two answers", "two outputs",
    "two completions", "following responses", "following answers", "following outputs", "compare the",
    "compare these", "compare two", "回答a", "回答b", "回答1", "回答2", "两个回答", "以下回答",
    "以下两个", "比较", "respuesta a$", "respuesta b$", "respuesta 1$", "respuesta 2$",
    "dos respuestas", "siguientes respuestas", "compara", "ответ a$", "ответ b$", "ответ а$",
    "ответ б$", "ответ 1$", "ответ 2$", "два ответа", "следующие ответы", "сравни", "antwort a$",
    "antwort b$", "antwort 1$", "antwort 2$", "zwei antworten", "folgenden antworten", "vergleich",
    "réponse a$", "réponse b$", "réponse 1$", "réponse 2$", "deux réponses", "réponses suivantes",
    "compar",
]

RUB_VERDICT = [
    "a or b", "a oder b", "a o b", "a ou b", "a или b", "а или б", "a或b", "a还是b",
    "verdict", "output only the score", "output the score", "output a score", "only the score",
    "respond with the score", "respond with a score", "respond only with", "score:", "rating:",
    '"score"', "justify your score", "justify your rating", "explain your score",
    "explain your rating", "followed by a score", "give a score", "assign a score", "只输出分数",
    "给出分数", "分数：", "分数:", "输出分数", "打一个分", "veredicto", "solo la puntuación",
    "solo la nota", "puntuación:", "asigna una puntuación", "вердикт", "только балл", "только оценку",
    "оценка:", "поставь оценку", "поставьте оценку", "urteil", "nur die punktzahl", "nur die note",
    "note:", "punktzahl:", "vergib", "uniquement la note", "seulement la note", "note :", "note:",
    "attribue une note",
]

# --- dataset generation -----------------------------------------------------------------------
# Asked to produce many samples, usually structured, to become training data.
DG_GENERATE = [
    "批量", "in bulk", "batch of", "en masse", "en lote",
    "generate", "generating", "create$", "create a", "create me", "creating", "produce", "synthesize",
    "synthesise", "come up with", "brainstorm", "make up", "write me", "write a list", "write a set",
    "write a batch", "give me a list", "生成", "创建", "编写", "制作", "编造", "构造", "合成", "列出",
    "写出", "给我", "genera", "crea$", "crear", "produce", "producir", "escribe", "inventa",
    "sintetiz", "dame", "сгенерир", "генерир", "созда", "придума", "напиши", "составь", "сформир",
    "синтезир", "дай мне", "generier", "erstell", "erzeug", "schreib", "ausdenk", "denk dir",
    "synthetisier", "gib mir", "génère", "générez", "générer", "crée", "créez", "créer", "produis",
    "produire", "écris", "écrivez", "invente", "synthétis", "donne-moi",
]

DG_DATA = [
    "to train a", "to train an", "for training", "para entrenar", "用于训练", "用来训练", "для обучения",
    "zum trainieren", "um ein modell", "pour entraîner", "pour l'entraînement",
    "dataset", "data set", "training data", "training example", "training set", "training corpus",
    "fine-tun", "finetun", "fine tun", "instruction tuning", "instruction-tuning", "synthetic data",
    "synthetic example", "synthetic dialog", "synthetic conversation", "q&a pairs", "qa pairs",
    "q/a pairs", "question-answer pairs", "question answer pairs", "question and answer pairs",
    "instruction-response", "prompt-completion", "prompt/completion", "input-output pairs", "jsonl",
    "labeled example", "labelled example", "labeled data", "labelled data", "annotated", "corpus",
    "few-shot", "seed tasks", "distill", "数据集", "训练数据", "训练集", "问答对", "样本", "语料",
    "微调", "标注", "合成数据", "指令数据", "conjunto de datos", "datos de entrenamiento",
    "datos sintéticos", "pares de pregunta", "ajuste fino", "etiquetad", "anotad", "corpus", "датасет",
    "набор данных", "обучающ", "тренировочн", "дообучени", "синтетическ", "пары вопрос", "пар вопрос",
    "размеченн", "разметк", "корпус", "datensatz", "datensätze", "trainingsdaten", "trainingsbeispiel",
    "feinabstimm", "synthetische daten", "frage-antwort-paare", "frage-antwort-paar", "annotiert",
    "gelabelt", "korpus", "jeu de données", "ensemble de données", "données d'entraînement",
    "données synthétiques", "paires question", "paires de question", "affinage", "annoté", "étiqueté",
    "corpus",
]

# Generic sample nouns: weak alone ("give me examples of irony"), strong with a count.
DG_ITEMS = [
    "examples$", "samples$", "qa pairs", "pairs$", "例子", "示例", "样例", "muestras", "ejemplos",
    "примеров", "примеры", "образцов", "beispiele", "beispielen", "exemples", "échantillons",
]

DG_FORMAT = [
    "json", "array of", "list of objects", "list of dicts", "list of dictionaries",
    '"instruction"', '"input"', '"output"', '"question"', '"answer"', '"prompt"', '"completion"',
    '"response"', '"label"', '"context"', '"query"', "csv$", "one per line", "each item",
    "each entry", "each example", "each sample", "each object", "each pair", "each record",
    "in the format", "following format", "following schema", "with fields", "with the fields",
    "with keys", "格式", "每行一个", "字段", "每个样本", "每个例子", "每条", "formato", "cada ejemplo",
    "cada entrada", "cada elemento", "cada muestra", "campos", "uno por línea", "формат",
    "каждый пример", "каждая запись", "каждый элемент", "поля", "полями", "по одному на строк",
    "jedes beispiel", "jeder eintrag", "jedes element", "felder", "einen pro zeile", "eines pro zeile",
    "chaque exemple", "chaque entrée", "chaque élément", "champs", "un par ligne",
]

DG_DIVERSE = [
    "divers", "varied", "variety", "various topics", "various domains", "different topics",
    "different domains", "different styles", "different difficulty", "unique", "distinct",
    "do not repeat", "don't repeat", "no duplicates", "without repetition", "wide range", "多样",
    "不同的主题", "不同主题", "不同领域", "不要重复", "不重复", "各种", "variad", "distint",
    "diferentes temas", "no repitas", "sin repetir", "amplia gama", "разнообразн", "различн",
    "разных тем", "не повторя", "без повторени", "vielfältig", "abwechslungsreich", "unterschiedlich",
    "verschiedene themen", "nicht wiederhol", "keine wiederholung", "variés", "variées", "diversifi",
    "différents sujets", "ne répète pas", "sans répétition",
]

# Words for "many" that can stand in for a count ("hundreds of questions").
DG_MANY = [
    "dozens$", "dozen$", "hundreds$", "hundred$", "thousands$", "thousand$", "fifty$", "forty$",
    "thirty$", "twenty$", "many$", "multiple$", "several$", "几十", "上百", "上千", "一百", "一千",
    "cientos$", "cien$", "miles$", "decenas$", "muchos$", "muchas$", "сотни$", "сотню$", "сто$",
    "тысяч", "десятки$", "много$", "hundert$", "tausend$", "dutzende$", "viele$", "centaines$",
    "cent$", "milliers$", "mille$", "dizaines$", "plusieurs$",
]

# Plural nouns for "<count> <...> <noun>" quantity requests (matched by a small regex).
DG_COUNT_NOUNS = [
    "examples", "samples", "questions", "pairs", "prompts", "instructions", "conversations",
    "dialogues", "dialogs", "sentences", "entries", "records", "rows", "items", "tasks", "problems",
    "variations", "paraphrases", "queries", "tweets", "reviews", "utterances", "个", "条", "组", "道",
    "对", "段", "ejemplos", "muestras", "preguntas", "pares", "frases", "oraciones", "diálogos",
    "conversaciones", "instrucciones", "registros", "entradas", "variaciones", "problemas", "пример",
    "образц", "вопрос", "пар", "предложени", "диалог", "инструкци", "запис", "задач", "вариант",
    "beispiele", "stichproben", "fragen", "paare", "sätze", "dialoge", "gespräche", "anweisungen",
    "einträge", "datensätze", "aufgaben", "varianten", "exemples", "échantillons", "questions",
    "paires", "phrases", "dialogues", "instructions", "entrées", "enregistrements", "problèmes",
    "variantes",
]

# Broad hints used only to decide whether the n-gram model runs (intent.py): words around
# thinking, results and labels that paraphrased requests keep even when no cue above fires.
NGRAM_GATE = [
    "think", "thought", "approach", "conclu", "result", "solution", "label", "reason",
    "思", "想", "结果", "答案", "结论", "标签", "理",
    "piens", "pensa", "pensando", "resultado", "solución", "conclusión", "etiquet", "razon",
    "мысл", "дума", "результат", "решени", "вывод", "метк", "рассужд",
    "denk", "dachte", "ergebnis", "lösung", "schluss", "label", "überleg",
    "pens", "résultat", "conclusion", "étiquet", "raison",
]

# --- context ----------------------------------------------------------------------------------
# Source code in the prompt: "dataset", "score", "accuracy" there are identifiers, not intents.
CODE_MARKERS = [
    "```", "import ", "from transformers", "def ", "self.", "();", "#include", "console.log",
    "print(", " => ", "</", "return ", "function ", "const ", "np.", "pd.", "df[", "sklearn",
    "torch", "public static", "select * from", " == ", "):\n", "};", "var ", "let ",
]

# --- language stopwords (whole words) ---------------------------------------------------------
LANG_STOPWORDS = {
    "en": [
        "the", "and", "is", "are", "what", "how", "you", "your", "with", "this", "that", "please",
        "of", "for", "can", "it", "my", "me", "about", "who", "which", "give", "do",
    ],
    "es": [
        "el", "los", "las", "una", "por", "para", "está", "cómo", "qué", "pero", "muy", "también",
        "del", "y", "cuál", "cuáles", "dónde", "puedes", "sobre", "esto", "esta", "este", "hay", "tu",
        "es",
    ],
    "de": [
        "der", "die", "das", "und", "ist", "nicht", "ich", "wie", "mit", "ein", "eine", "auf", "du",
        "dein", "deinen", "deine", "für", "sie", "zu", "von", "den", "dem", "bitte", "wird", "auch",
        "kannst", "oder", "einen", "was",
    ],
    "fr": [
        "le", "les", "et", "est", "des", "une", "pour", "vous", "avec", "dans", "pas", "je", "ton",
        "ta", "tes", "mon", "votre", "sur", "qui", "au", "aux", "ce", "cette", "sont", "peux",
        "comment", "c'est", "qu'est-ce", "quelle", "quel",
    ],
    "pt": [
        "não", "você", "uma", "para", "com", "os", "isso", "como", "são", "também", "qual", "voce",
        "nao", "seu", "sua",
    ],
    "it": ["il", "che", "di", "è", "per", "non", "sono", "della", "gli", "anche", "come", "questo", "qual è"],
}

# fmt: on

FAMILIES: dict[str, list[str]] = {
    "cot_elicit": COT_ELICIT,
    "cot_reason": COT_REASON,
    "cot_not_just": COT_NOT_JUST,
    "cot_step_strong": COT_STEP_STRONG,
    "cot_step_weak": COT_STEP_WEAK,
    "cot_show": COT_SHOW,
    "cot_final": COT_FINAL,
    "cot_problem": COT_PROBLEM,
    "cot_self": COT_SELF,
    "cot_procedure": COT_PROCEDURE,
    "rub_grade": RUB_GRADE,
    "rub_target": RUB_TARGET,
    "rub_criteria": RUB_CRITERIA,
    "rub_pair": RUB_PAIR,
    "rub_verdict": RUB_VERDICT,
    "dg_generate": DG_GENERATE,
    "dg_data": DG_DATA,
    "dg_items": DG_ITEMS,
    "dg_format": DG_FORMAT,
    "dg_diverse": DG_DIVERSE,
    "dg_many": DG_MANY,
    "code": CODE_MARKERS,
    "ngram_gate": NGRAM_GATE,
    **{f"lang_{code}": [w + "$" for w in words] for code, words in LANG_STOPWORDS.items()},
}
