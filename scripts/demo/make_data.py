#!/usr/bin/env python3
"""make_data.py — the demo's data: a synthetic pre-training corpus of facts
about fictional people and a question-answering benchmark about them.

Deterministic (a fixed seed, Python's random.Random, no other input), so
`python3 scripts/demo/make_data.py datasets/demo` always writes the same bytes.

The world: ENTITIES fictional people, each with four attributes drawn
uniformly from fixed pools: birth city, university, field of study, employer.
Half of the people are "practice" people, half "test" people.

The corpus (corpus.jsonl, one {"id", "text"} document per line) is the models'
whole pre-training data and the retrieval corpus:
  - biographies: 1 to 8 per person (BIO_COUNTS: few people are
    mentioned often, many rarely), each a random phrasing of the
    four facts (one of four templates per fact) in a random sentence order;
    every sentence names the person in full, as knowledge-extraction studies
    recommend (Allen-Zhu & Li, "Physics of Language Models 3.1");
  - question-answer practice for the practice people only: the four
    questions in the benchmark's exact prompt format ("Question: ...\nAnswer: ...");
  - reading practice for the practice people only: two passages (the
    person's biography and a biography of a person sharing a first or last
    name) followed by a question, in the exact format `mnemo eval` gives a
    prompt with retrieved passages;
  - a quiz page: a share PLANTED_SHARE of the benchmark's items, copied
    verbatim (question and answer) — the planted contamination.
The benchmark asks about the test people only, so answering closed-book
needs knowledge extracted from biographies the model has read; answering with
retrieval needs finding and reading a biography.

Outputs (in OUT_DIR):
  corpus.jsonl   the corpus
  qa.jsonl       the benchmark, free-form: {"id", "question", "answer", "subject"}
  mc.jsonl       the same questions with four choices: {"id", "question",
                 "choices", "answer" (index), "subject"}
  planted.txt    ids of qa.jsonl items copied into the corpus, one per line
  world.jsonl    every person's attributes and split (for inspection)
Question templates keep at most 7 words on either side of the name (answer
included), so with word 8-grams an audit can find a copied item only from a
copy of the item itself.
"""
import json
import os
import random
import sys

SEED = 20261122
ENTITIES = 2000
BENCH_PEOPLE = 160   # test people the benchmark asks about (4 items each)
# Biographies per person, drawn with these weights: a long tail of rarely
# mentioned people, so memorising them takes more and more compute (mean 2.97).
BIO_COUNTS = [(1, 30), (2, 25), (3, 15), (4, 12), (6, 10), (8, 8)]
PLANTED_SHARE = 0.10

FIRST_PARTS = (["Al", "Be", "Cor", "Da", "El", "Fen", "Gal", "Hal", "Is", "Jor"],
               ["ara", "en", "vin", "ia", "an", "ric"])
LAST_PARTS = (["Ash", "Bell", "Car", "Dun", "Els", "Fair", "Grey", "Hol", "Iron", "Jess"],
              ["grove", "water", "row", "more", "worth", "holm"])
OLD_FIRST = ["Alara", "Bexen", "Corvin", "Dalia", "Eshan", "Fenna", "Gideon", "Halvar", "Isolde",
         "Jorin", "Kestra", "Lioren", "Marek", "Nerys", "Orrin", "Pella", "Quillan", "Rosalind",
         "Soren", "Talia", "Ulric", "Vesna", "Wendel", "Xanthe", "Yorick", "Zarina", "Anselm",
         "Brisa", "Caspian", "Delphine"]
OLD_LAST = ["Ashgrove", "Bellwater", "Carrow", "Dunmore", "Elsworth", "Fairholm", "Greystone",
        "Hollins", "Ironwood", "Jessup", "Kingsley", "Larkspur", "Merriman", "Northcote",
        "Oakhurst", "Pemberton", "Quarrington", "Redfern", "Stanmore", "Thistlewood", "Underhill",
        "Vantongeren", "Whitlock", "Yarborough", "Zeller", "Amberley", "Blackwood", "Coldwell"]
FIRST = sorted(set(OLD_FIRST) | {a + b for a in FIRST_PARTS[0] for b in FIRST_PARTS[1]})
LAST = sorted(set(OLD_LAST) | {a + b for a in LAST_PARTS[0] for b in LAST_PARTS[1]})
CITIES = ["Tolmar", "Vessary", "Brightwater", "Cendra", "Dravik", "Emberly", "Falkreach",
          "Galdor", "Harrowgate", "Ilsenport", "Jarnvik", "Kelmoor", "Lunaris", "Marrowdale",
          "Nythe", "Orlesk", "Pyrefield", "Quenby", "Rostova", "Silverkeep", "Tarnholm",
          "Umbridge", "Valcourt", "Westhollow"]
UNIVERSITIES = [x + " University" for x in
                ["Alderbrook", "Brennan", "Cairnwell", "Dunhaven", "Estmere", "Foxley",
                 "Glenmore", "Hartfield", "Ivywick", "Kestrel", "Lorimer", "Mossgate",
                 "Norwood", "Orchard", "Penrose", "Ravenhill"]]
FIELDS = ["botany", "geology", "linguistics", "astronomy", "chemistry", "economics",
          "philosophy", "mathematics", "sculpture", "architecture", "zoology", "medicine",
          "history", "music", "physics", "ecology", "genetics", "forestry", "geography",
          "poetry"]
EMPLOYERS = [a + " " + b for a, b in
             [("Copperline", "Labs"), ("Bluestone", "Works"), ("Northwind", "Foundry"),
              ("Silvergate", "Systems"), ("Redcliff", "Press"), ("Greenhaven", "Mills"),
              ("Starling", "Logistics"), ("Highmoor", "Studios"), ("Lanternfield", "Trust"),
              ("Ashford", "Instruments"), ("Brightforge", "Labs"), ("Clearwater", "Works"),
              ("Duskfall", "Shipping"), ("Evergreen", "Textiles"), ("Falconer", "Pharma"),
              ("Goldcrest", "Bank"), ("Harbor", "Robotics"), ("Ironbridge", "Press")]]

ATTRIBUTES = ["city", "university", "field", "employer"]
POOLS = {"city": CITIES, "university": UNIVERSITIES, "field": FIELDS, "employer": EMPLOYERS}

# Four phrasings per fact; {n} is the full name, {v} the value.
BIO_TEMPLATES = {
    "city": ["{n} was born in {v}.", "{n} came into the world in the city of {v}.",
             "The birthplace of {n} is {v}.", "{n} grew up in {v}, the city of birth."],
    "university": ["{n} attended {v}.", "{n} studied at {v}.", "{n} graduated from {v}.",
                   "{n} received an education at {v}."],
    "field": ["{n} specialized in {v}.", "{n} chose {v} as a field of study.",
              "The academic focus of {n} was {v}.", "{n} earned a degree in {v}."],
    "employer": ["{n} worked for {v}.", "{n} was employed by {v}.",
                 "{n} built a career at {v}.", "{n} took a job at {v}."],
}
# The benchmark's questions (the name's left side <= 3 words, right side
# <= 5 words before the answer of <= 2 words).
QUESTIONS = {
    "city": "Which city was {n} born in, according to the archive?",
    "university": "Which university did {n} attend, according to the archive?",
    "field": "Which field did {n} study, according to the archive?",
    "employer": "Which company did {n} work for, according to the archive?",
}


def make_world(rng):
    names = [(f, l) for f in FIRST for l in LAST]
    rng.shuffle(names)
    people = []
    for i in range(ENTITIES):
        f, l = names[i]
        p = {"name": f + " " + l, "first": f, "last": l,
             "split": "practice" if i % 2 == 0 else "test"}
        for a in ATTRIBUTES:
            p[a] = rng.choice(POOLS[a])
        people.append(p)
    return people


def biography(rng, p):
    order = ATTRIBUTES[:]
    rng.shuffle(order)
    return " ".join(rng.choice(BIO_TEMPLATES[a]).format(n=p["name"], v=p[a]) for a in order)


def qa_block(p, a):
    return "Question: " + QUESTIONS[a].format(n=p["name"]) + "\nAnswer: " + p[a]


def namesake(rng, people, p):
    """Another person sharing p's first or last name (a hard distractor), else any."""
    same = [q for q in people if q is not p and (q["first"] == p["first"] or q["last"] == p["last"])]
    return rng.choice(same) if same else rng.choice([q for q in people if q is not p])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "datasets/demo"
    os.makedirs(out, exist_ok=True)
    rng = random.Random(SEED)
    people = make_world(rng)
    counts = [c for c, w in BIO_COUNTS for _ in range(w)]
    bios = {p["name"]: [biography(rng, p) for _ in range(rng.choice(counts))] for p in people}

    items = []
    for p in [q for q in people if q["split"] == "test"][:BENCH_PEOPLE]:
        for a in ATTRIBUTES:
            items.append({"id": "demo-%04d-%s" % (people.index(p), a),
                          "question": QUESTIONS[a].format(n=p["name"]), "answer": p[a],
                          "subject": a, "person": p})
    planted = sorted(rng.sample(range(len(items)), round(PLANTED_SHARE * len(items))))

    docs = []
    for p in people:
        for j, b in enumerate(bios[p["name"]]):
            docs.append(("bio-%04d-%d" % (people.index(p), j), b))
    for p in people:
        if p["split"] != "practice":
            continue
        order = ATTRIBUTES[:]
        rng.shuffle(order)
        docs.append(("qa-%04d" % people.index(p), "\n\n".join(qa_block(p, a) for a in order)))
        for j, a in enumerate(rng.sample(ATTRIBUTES, 2)):
            other = namesake(rng, people, p)
            passages = [rng.choice(bios[p["name"]]), rng.choice(bios[other["name"]])]
            if rng.random() < 0.5:
                passages.reverse()
            text = "".join("Passage %d: %s\n" % (i + 1, t) for i, t in enumerate(passages))
            docs.append(("read-%04d-%d" % (people.index(p), j), text + "\n" + qa_block(p, a)))
    for k in range(0, len(planted), 4):
        group = [items[i] for i in planted[k:k + 4]]
        text = "Archive quiz, with answers.\n\n" + "\n\n".join(
            "Question: " + it["question"] + "\nAnswer: " + it["answer"] for it in group)
        docs.append(("quiz-%02d" % (k // 4), text))
    rng.shuffle(docs)

    with open(os.path.join(out, "corpus.jsonl"), "w") as f:
        for doc_id, text in docs:
            f.write(json.dumps({"id": doc_id, "text": text}) + "\n")
    with open(os.path.join(out, "qa.jsonl"), "w") as f:
        for it in items:
            f.write(json.dumps({"id": it["id"], "question": it["question"], "answer": it["answer"],
                                "subject": it["subject"]}) + "\n")
    with open(os.path.join(out, "mc.jsonl"), "w") as f:
        for it in items:
            pool = [v for v in POOLS[it["subject"]] if v != it["answer"]]
            choices = rng.sample(pool, 3) + [it["answer"]]
            rng.shuffle(choices)
            f.write(json.dumps({"id": it["id"] + "-mc", "question": it["question"],
                                "choices": choices, "answer": choices.index(it["answer"]),
                                "subject": it["subject"]}) + "\n")
    with open(os.path.join(out, "planted.txt"), "w") as f:
        f.write("# qa.jsonl items copied verbatim into corpus.jsonl (quiz-* documents)\n")
        for i in planted:
            f.write(items[i]["id"] + "\n")
    with open(os.path.join(out, "world.jsonl"), "w") as f:
        for p in people:
            f.write(json.dumps({k: p[k] for k in ["name", "split"] + ATTRIBUTES}) + "\n")
        f.write("\n")
    words = sum(len(t.split()) for _, t in docs)
    print("%d people, %d documents (%d words), %d items, %d planted" %
          (len(people), len(docs), words, len(items), len(planted)))


if __name__ == "__main__":
    main()
