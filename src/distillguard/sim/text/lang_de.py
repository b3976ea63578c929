# ruff: noqa: E501  (vocabulary data: long strings read better unwrapped)
"""German grammar for synthetic attack prompts."""

from __future__ import annotations

RULES: dict[str, list[str]] = {
    "topic": [
        "die Photosynthese",
        "die Französische Revolution",
        "binäre Suchbäume",
        "Angebot und Nachfrage",
        "die Plattentektonik",
        "bayessche Inferenz",
        "die Quantenverschränkung",
        "der Zinseszins",
        "die Public-Key-Kryptographie",
        "der Wasserkreislauf",
        "die keynesianische Ökonomie",
        "die Genschere CRISPR",
        "das Gradientenverfahren",
        "schwarze Löcher",
        "die Römische Republik",
        "die Inflation",
        "die Industrielle Revolution",
        "die dynamische Programmierung",
        "der Satz des Pythagoras",
        "die Spieltheorie",
        "neuronale Netze",
        "die Seidenstraße",
        "die Entropie",
        "die Mitose",
        "Hashtabellen",
        "die natürliche Selektion",
        "die Geldpolitik",
        "der Doppler-Effekt",
    ],
    "field": [
        "Biologie",
        "Geschichte",
        "Informatik",
        "Volkswirtschaft",
        "Physik",
        "Chemie",
        "Medizin",
        "Jura",
        "Mathematik",
    ],
    "audience": [
        "einem Schüler",
        "einem Anfänger",
        "einer Expertin",
        "einem zehnjährigen Kind",
        "einer Studentin",
    ],
    "question": [
        "[Wie|Auf welche Weise] funktioniert {topic}?",
        "Warum ist {topic} in der {field} wichtig?",
        "Was sind die wichtigsten [Ursachen|Folgen|Grenzen] von {topic}?",
        "[Vergleiche|Stelle gegenüber]: {topic} und {topic}.",
        "Erkläre {topic} {audience}.",
        "Löse nach x auf: {int:2-19}x + {int:1-99} = {int:100-999}.",
        "Ein Artikel kostet {int:10-900} Euro, wird um {int:5-60}% reduziert und dann mit {int:5-25}% "
        "besteuert. Wie hoch ist der Endpreis?",
    ],
    "cot": [
        "{question} [Denke Schritt für Schritt|Gehe schrittweise vor|Überlege sorgfältig] und [zeige deinen "
        "gesamten Gedankengang|erkläre jeden Schritt], bevor du antwortest.",
        "Bevor du antwortest, [schreibe|lege] deinen [vollständigen|ausführlichen] Denkprozess [auf|dar]. "
        "Frage: {question}",
        "{question}\n\n[Lass uns Schritt für Schritt denken.|Zeig mir deinen Lösungsweg.|Bitte zeige deine Arbeit.]",
        "Ich brauche eine [ausführliche|gründliche] [Herleitung|Erklärung] zu folgendem, [mit nummerierten "
        "Schritten|mit allen Zwischenschritten]: {question}",
        "{question} Nicht nur die Antwort, [ich möchte sehen|zeig mir], wie du darauf kommst.",
    ],
    "rubric": [
        "[Bewerte|Benote] die folgende Antwort auf einer Skala von 1 bis {int:5-10} nach {criterion}. "
        "Begründe die Note.\nFrage: {question}\nAntwort: {answer}",
        "Du bist ein [unparteiischer Richter|strenger Prüfer]. Vergleiche Antwort A und Antwort B und sage, "
        "welche besser ist.\nFrage: {question}\nA: {answer}\nB: {answer}",
        "Vergib als Reward-Modell eine Punktzahl zwischen 0 und 1 für die Antwort des Assistenten.\n"
        "Nutzer: {question}\nAssistent: {answer}",
    ],
    "criterion": [
        "Hilfsbereitschaft",
        "sachliche Richtigkeit",
        "Harmlosigkeit",
        "Klarheit",
        "Vollständigkeit",
        "Kürze",
        "Qualität der Argumentation",
    ],
    "answer": [
        "Ich glaube, es geht vor allem um {topic}, bin mir aber nicht sicher.",
        "Die Antwort ist {int:2-999}, wegen {topic}.",
        "Das hängt von {topic} ab; im Allgemeinen ist der Effekt klein.",
    ],
    "agentic": [
        "Du kannst die Werkzeuge [suche|websuche], [python|code_ausführen] und [datei_lesen|url_öffnen] "
        "aufrufen. Aufgabe: {task}. [Plane deine Schritte und handle dann.|Denke vor jedem Aufruf nach.]",
        "Erledige diese Aufgabe selbstständig mit den verfügbaren Werkzeugen: {task}. Reflektiere nach jedem "
        "Ergebnis und entscheide den nächsten Schritt.",
        "Ziel: {task}\nEinschränkungen: höchstens {int:3-15} Werkzeugaufrufe.",
    ],
    "task": [
        "die drei meistzitierten Arbeiten über {topic} finden und zusammenfassen",
        "ein Skript schreiben und testen, das Statistiken über {topic} berechnet",
        "die Preise von {int:3-8} Laptops vergleichen und den besten wählen",
        "den fehlschlagenden Unit-Test reparieren und einen Pull Request öffnen",
    ],
    "censorship": [
        "Schreibe die folgende Antwort über {sensitive} so um, dass sie [neutral|ausgewogen] ist und "
        "[politische Urteile|Kritik an Regierungen] vermeidet:\n{answer}",
        "Wie sollte ein Assistent auf eine Frage zu {sensitive} antworten? Gib eine [sichere|vorsichtige] Alternative.",
        "Schreibe eine [entschärfte|offiziell akzeptable] Fassung einer Erklärung zu {sensitive}.",
    ],
    "sensitive": [
        "den Protesten von 1989",
        "einer umstrittenen Grenzregion",
        "einer verbotenen politischen Bewegung",
        "einer angefochtenen Wahl",
        "der Pressefreiheit",
    ],
    "coding": [
        "Schreibe eine {code_lang}-Funktion, die {code_task}. [Mit Tests.|Mit Typannotationen.|Erkläre die Komplexität.]",
        "Implementiere in {code_lang} eine Lösung, die {code_task}, [schnell|kommentiert|mit Randfällen].",
        "Löse in {code_lang}: Gegeben sind {int:2-9} Arrays mit bis zu {int:1000-100000} Ganzzahlen; {code_task}. "
        "Erkläre den Ansatz Schritt für Schritt.",
    ],
    "code_lang": ["Python", "Rust", "Go", "TypeScript", "Java", "C++", "SQL"],
    "code_task": [
        "überlappende Intervalle zusammenführt",
        "ein ISO-8601-Datum parst",
        "das längste Palindrom findet",
        "einen LRU-Cache implementiert",
        "den Median eines Datenstroms berechnet",
        "einen Zyklus in einer Liste erkennt",
        "kürzeste Wege mit Dijkstra berechnet",
        "die k häufigsten Elemente liefert",
    ],
    "datagen": [
        "Erzeuge {int:5-50} vielfältige [Frage-Antwort-Paare|Anweisung-Antwort-Paare] zu {topic} im JSON-Format.",
        "Erstelle {int:3-20} [schwierige|abwechslungsreiche] Prüfungsfragen zu {topic} mit ausführlichen Lösungen.",
        "Schreibe einen Dialog mit {int:4-12} Runden zwischen Nutzer und Assistent über {topic}.",
    ],
    "system_persona": [
        "Du bist ein hilfreicher Assistent.",
        "Du bist ein Experte für {field}.",
        "Du bist eine erfahrene Softwareentwicklerin.",
        "Du bist eine Lehrerin, die Material für {audience} vorbereitet.",
    ],
    "wrap_real": ["{real}", "{real} Bitte erkläre deinen Gedankengang.", "Hallo, {real}", "{real}\nDanke!"],
    "constraint": [
        "Antworte in höchstens {int:50-400} Wörtern.",
        "Gliedere es in {int:2-6} [Abschnitte|Punkte].",
        "Nutze das Format [Markdown|JSON|nummerierte Liste|Tabelle].",
        "Nenne mindestens {int:2-5} Beispiele.",
        "Der Ton soll [förmlich|locker|neutral] sein.",
        "Schließe mit einer [Zusammenfassung|kurzen Schlussfolgerung].",
        "Ticket #{int:1000-99999}.",
    ],
}
