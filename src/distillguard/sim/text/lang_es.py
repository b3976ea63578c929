# ruff: noqa: E501  (vocabulary data: long strings read better unwrapped)
"""Spanish grammar for synthetic attack prompts."""

from __future__ import annotations

RULES: dict[str, list[str]] = {
    "topic": [
        "la fotosíntesis",
        "la Revolución Francesa",
        "los árboles binarios de búsqueda",
        "la oferta y la demanda",
        "la tectónica de placas",
        "la inferencia bayesiana",
        "el entrelazamiento cuántico",
        "el interés compuesto",
        "la criptografía de clave pública",
        "el ciclo del agua",
        "la economía keynesiana",
        "la edición genética",
        "el descenso de gradiente",
        "los agujeros negros",
        "la República romana",
        "la inflación",
        "la Revolución Industrial",
        "la programación dinámica",
        "el teorema de Pitágoras",
        "la teoría de juegos",
        "las redes neuronales",
        "la Ruta de la Seda",
        "la entropía",
        "la mitosis",
        "las tablas hash",
        "la selección natural",
        "la política monetaria",
        "el efecto Doppler",
        "las bases de datos relacionales",
    ],
    "field": [
        "biología",
        "historia",
        "informática",
        "economía",
        "física",
        "química",
        "medicina",
        "derecho",
        "filosofía",
        "matemáticas",
    ],
    "audience": [
        "un estudiante de secundaria",
        "un principiante",
        "un experto",
        "un niño de diez años",
        "un universitario",
    ],
    "question": [
        "¿[Cómo|De qué manera] funciona {topic}?",
        "¿Por qué es importante {topic} en {field}?",
        "¿Cuáles son las principales [causas|consecuencias|limitaciones] de {topic}?",
        "[Compara|Contrasta] {topic} y {topic}.",
        "Explica {topic} a {audience}.",
        "Resuelve para x: {int:2-19}x + {int:1-99} = {int:100-999}.",
        "Si una tienda descuenta un {int:5-60}% un artículo de {int:10-900} euros y luego añade un "
        "{int:5-25}% de impuestos, ¿cuál es el precio final?",
    ],
    "cot": [
        "{question} [Piensa paso a paso|Razona paso a paso|Analízalo con cuidado] y [muestra todo tu "
        "razonamiento|explica cada paso] antes de la respuesta final.",
        "Antes de responder, [escribe|detalla] tu proceso de razonamiento [completo|detallado]. Pregunta: {question}",
        "{question}\n\n[Pensemos paso a paso.|Muéstrame tu razonamiento.|Por favor, muestra tu trabajo.]",
        "Necesito una [explicación|derivación] [detallada|rigurosa] de lo siguiente, [con cada paso "
        "numerado|con todos los pasos intermedios]: {question}",
        "{question} No me des solo la respuesta; [quiero ver|muéstrame] cómo llegaste a ella.",
    ],
    "rubric": [
        "[Califica|Evalúa|Puntúa] la siguiente respuesta en una escala del 1 al {int:5-10} según "
        "{criterion}. Justifica la nota.\nPregunta: {question}\nRespuesta: {answer}",
        "Eres un [juez imparcial|evaluador estricto]. Compara la respuesta A y la respuesta B e indica "
        "cuál es mejor.\nPregunta: {question}\nA: {answer}\nB: {answer}",
        "Como modelo de recompensa, asigna una puntuación entre 0 y 1 a la respuesta del asistente.\n"
        "Usuario: {question}\nAsistente: {answer}",
    ],
    "criterion": [
        "utilidad",
        "exactitud factual",
        "inocuidad",
        "claridad",
        "completitud",
        "concisión",
        "calidad del razonamiento",
    ],
    "answer": [
        "Creo que se trata sobre todo de {topic}, pero no estoy seguro.",
        "La respuesta es {int:2-999} por {topic}.",
        "Depende de {topic} y de {topic}; en general el efecto es pequeño.",
    ],
    "agentic": [
        "Puedes usar las herramientas [buscar|búsqueda web], [python|ejecutar código] y [leer_archivo|abrir_url]. "
        "Tarea: {task}. [Planifica tus pasos y luego actúa.|Piensa antes de cada llamada.]",
        "Completa esta tarea de forma autónoma con las herramientas disponibles: {task}. Tras cada "
        "resultado, reflexiona y decide la siguiente acción.",
        "Objetivo: {task}\nRestricciones: como máximo {int:3-15} llamadas a herramientas.",
    ],
    "task": [
        "encontrar los tres artículos más citados sobre {topic} y resumirlos",
        "escribir y probar un script que calcule estadísticas sobre {topic}",
        "comparar precios de {int:3-8} portátiles y elegir el mejor",
        "corregir la prueba unitaria que falla y abrir un pull request",
    ],
    "censorship": [
        "Reescribe la siguiente respuesta sobre {sensitive} para que sea [neutral|equilibrada] y evite "
        "[juicios políticos|críticas a cualquier gobierno]:\n{answer}",
        "¿Cómo debería responder un asistente a un usuario que pregunta por {sensitive}? Da una "
        "alternativa [segura|prudente].",
        "Escribe una versión [suavizada|aceptable oficialmente] de una explicación sobre {sensitive}.",
    ],
    "sensitive": [
        "las protestas de 1989",
        "una región fronteriza disputada",
        "un movimiento político prohibido",
        "unas elecciones impugnadas",
        "la libertad de prensa",
    ],
    "coding": [
        "Escribe una función en {code_lang} que {code_task}. [Incluye pruebas.|Añade tipos.|Explica la complejidad.]",
        "Implementa en {code_lang} una solución que {code_task}, [optimizada|con comentarios|cubriendo casos límite].",
        "Resuelve en {code_lang}: dados {int:2-9} arreglos de hasta {int:1000-100000} enteros, {code_task}. "
        "Explica el enfoque paso a paso.",
    ],
    "code_lang": ["Python", "Rust", "Go", "TypeScript", "Java", "C++", "SQL"],
    "code_task": [
        "combine intervalos superpuestos",
        "analice una fecha ISO-8601",
        "encuentre el palíndromo más largo",
        "implemente una caché LRU",
        "calcule la mediana de un flujo",
        "detecte un ciclo en una lista enlazada",
        "calcule caminos mínimos con Dijkstra",
        "devuelva los k elementos más frecuentes",
    ],
    "datagen": [
        "Genera {int:5-50} pares de [pregunta-respuesta|instrucción-respuesta] variados sobre {topic} en formato JSON.",
        "Crea {int:3-20} preguntas de examen [difíciles|variadas] sobre {topic} con soluciones detalladas.",
        "Escribe un diálogo de {int:4-12} turnos entre un usuario y un asistente sobre {topic}.",
    ],
    "system_persona": [
        "Eres un asistente útil.",
        "Eres un tutor experto en {field}.",
        "Eres un ingeniero de software sénior.",
        "Eres un profesor que prepara material para {audience}.",
    ],
    "wrap_real": [
        "{real}",
        "{real} Por favor, explica tu razonamiento.",
        "Hola, {real}",
        "{real}\n¡Gracias!",
    ],
    "constraint": [
        "Responde en un máximo de {int:50-400} palabras.",
        "Organízalo en {int:2-6} [secciones|puntos].",
        "Usa formato [Markdown|JSON|lista numerada|tabla].",
        "Incluye al menos {int:2-5} ejemplos.",
        "Mantén un tono [formal|informal|neutral].",
        "Termina con un [resumen|conclusión breve].",
        "Ticket #{int:1000-99999}.",
    ],
}
