#!/usr/bin/env bash
# corpus-gcide.sh — build the GCIDE retrieval corpus: Debian's dict-gcide
# (the GNU Collaborative International Dictionary of English, mostly
# Webster's 1913 plus WordNet 1.5 glosses; GPL-2+ package) converted to JSON
# lines {"id": "HEADWORD#N", "text": ENTRY}, one line per dictionary entry.
#
#   bash scripts/corpus-gcide.sh OUT.jsonl
#
# Installs dict-gcide with apt-get when it is missing (needs root; listed in
# scripts/setup.sh).  Debian's /usr/bin/python3 (stdlib only) does the
# conversion.  The output is deterministic: the same package version gives
# the same bytes (its sha256 is printed).
#
# Conversion rules.  /usr/share/dictd/gcide.index has one line per headword,
# "HEADWORD<TAB>OFFSET<TAB>LENGTH" with OFFSET/LENGTH in dictd's base64
# digits (A-Z a-z 0-9 + /, most significant first) into the decompressed
# gcide.dict.dz (dictzip is gzip-compatible).  Several headwords point at the
# same entry (e.g. variant spellings), so an entry is a distinct (OFFSET,
# LENGTH) pair: 126,240 of them, of which the 4 whose headwords start with
# "00-" (database info/url/short/long) are metadata and skipped.  Entries
# are written in file (offset) order; an entry's id is the first headword
# that points at it in index order, plus "#N" where N counts the entries
# written so far under that headword (1-based).  The text is the entry's
# bytes as stored (headword line, pronunciation, definitions), decoded as
# UTF-8; the few bytes that are not valid UTF-8 (stray Windows-1252
# punctuation such as 0x92) become U+FFFD, and the number of entries
# affected is printed.
#
# Result (dict-gcide 0.48.5+nmu2): 126,236 entries, about 40 MB of JSONL.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT.jsonl" >&2
  exit 2
fi
out=$1
dict=/usr/share/dictd/gcide.dict.dz
index=/usr/share/dictd/gcide.index
py=/usr/bin/python3

if [ ! -r "$dict" ] || [ ! -r "$index" ]; then
  echo "corpus-gcide: installing dict-gcide" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends dict-gcide >/dev/null
fi
[ -x "$py" ] || { echo "corpus-gcide: $py not found (apt-get install python3)" >&2; exit 1; }

"$py" - "$dict" "$index" "$out" <<'EOF'
import gzip, hashlib, json, os, sys

dict_path, index_path, out_path = sys.argv[1:4]
DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
VALUE = {c: i for i, c in enumerate(DIGITS)}

def b64(s, where):
    v = 0
    for c in s:
        if c not in VALUE:
            sys.exit(f"corpus-gcide: {where}: bad base64 digit {c!r}")
        v = v * 64 + VALUE[c]
    return v

data = gzip.open(dict_path).read()
first = {}  # (offset, length) -> first headword in index order
with open(index_path, encoding="utf-8") as f:
    for n, line in enumerate(f, 1):
        parts = line.rstrip("\n").split("\t")
        where = f"{index_path}: line {n}"
        if len(parts) != 3:
            sys.exit(f"corpus-gcide: {where}: expected 3 tab-separated fields")
        key = (b64(parts[1], where), b64(parts[2], where))
        if key[0] + key[1] > len(data):
            sys.exit(f"corpus-gcide: {where}: entry past the end of {dict_path}")
        first.setdefault(key, parts[0])

count, replaced, seen = 0, 0, {}
tmp = out_path + ".tmp." + str(os.getpid())
h = hashlib.sha256()
with open(tmp, "w", encoding="utf-8") as o:
    for (off, length), head in sorted(first.items()):
        if head.startswith("00-"):
            continue
        raw = data[off:off + length]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
            replaced += 1
        seen[head] = seen.get(head, 0) + 1
        line = json.dumps({"id": f"{head}#{seen[head]}", "text": text}, ensure_ascii=False) + "\n"
        o.write(line)
        h.update(line.encode("utf-8"))
        count += 1
os.replace(tmp, out_path)
print(f"corpus-gcide: {out_path}: {count} entries, {os.path.getsize(out_path)} bytes, "
      f"{replaced} with invalid UTF-8 replaced by U+FFFD, sha256 {h.hexdigest()}", file=sys.stderr)
EOF
