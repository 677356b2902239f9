# tests/fault/lib.sh — the "fail at call N" loop shared by the
# tests/fault/test_fault_*.sh scripts (sourced after tests/cli/lib.sh and
# test_begin).  README.md beside this file describes the injector.
#
# A loop script sets, then calls fault_loop:
#   FI_NAME         the output path's name (ingest, eval, ...)
#   fi_prepare      a function that creates the command's starting state in
#                   $S (a fixed path, emptied before each run): copies of
#                   pristine inputs built once, never shared between runs
#   FI_CMD          the command's arguments (an array; paths under $S)
#   fi_class REL    a function setting cls to how an output file (path
#                   relative to $S) is checked: "exact" (after a failure
#                   absent or equal to the uninterrupted run's; part of the
#                   default digest), "norm" (the same after fi_normalize: for
#                   files with documented timestamps), "json" (absent or
#                   parseable JSON; not in the digest: state that the rerun
#                   replaces), "skip" (a store whose consistency the rerun
#                   checks: LMDB, append-only logs).  Default: exact.
#   fi_normalize REL FILE  prints a "norm" FILE's content for comparison
#   fi_key REL      sets key to the name a "norm" file is compared under
#                   (default REL; for names holding a timestamp)
#   fi_digest       prints a text digest of the command's result in $S
#                   (default: the exact and norm files' sums); two runs
#                   agree iff their digests are equal
#
# For each operation (write, fsync, rename, open, alloc) the uninterrupted
# run's count C of calls gives the points N (fi_points): the first, about
# FI_POINTS evenly spaced ones and the last, plus a tail close to C when C
# is large; every N with MNEMO_FAULT_ALL=1.  Then a full disk at a few
# write points (MNEMO_FAULT=write:N:ENOSPC:full).  FI_OPS="write fsync"
# limits the ops.  After each failure:
#   status    exit status 1..125 (no signal, no timeout); or 0 when the
#             fault never fired or the failure was absorbed and the result
#             equals the uninterrupted run's
#   sanitizer no AddressSanitizer/UBSan/LeakSanitizer report
#   message   stderr ends with one line "mnemo: ..." naming the file the
#             fault hit (its name or its directory's) and the reason (the
#             errno's text; for alloc "out of memory", or "need(s) 1.7
#             MiB" from a large buffer's try-allocation); any line before it
#             is a progress line of the uninterrupted run (numbers aside)
#   tmp       no *.tmp.* file left
#   partial   every output file absent or whole (fi_class)
#   rerun     the same command without the fault exits 0 and its digest
#             equals the uninterrupted run's
# A failed check is a failure unless tests/fault/known-issues.txt lists it
# (a bug found here that another part of the code owns): then it prints
# KNOWN and does not count.  Each loop ends with the number of points per
# operation ("points:" lines).

FI=${MNEMO_FI_BIN:-$(dirname "${MNEMO_BIN:-.}")/tests/fault/mnemo-fi}
FI_TIMEOUT=${FI_TIMEOUT:-120}
# fewer points under the sanitizers (every run is about 5 times slower);
# FI_FULL_POINTS: the evenly spaced full-disk points
if [ "${MNEMO_SANITIZED:-0}" = 1 ]; then
    FI_POINTS=${FI_POINTS:-3} FI_FULL_POINTS=${FI_FULL_POINTS:-1}
else
    FI_POINTS=${FI_POINTS:-8} FI_FULL_POINTS=${FI_FULL_POINTS:-2}
fi
FI_KNOWN="$SRC/tests/fault/known-issues.txt"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MNEMO_PROGRESS=off
# a sanitizer report ends in SIGABRT (never an exit status that could pass
# for a clean error), and the loop greps stderr for reports too
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# ---------------------------------------------------------------------------
# setup and defaults

# fi_require — mnemo-fi must exist (built with the tests); W, the work
# directory, is on /dev/shm when there is one (every point fsyncs several
# times: on a shared disk the loops would wait on I/O most of their time),
# else $TMP; FI_WORKDIR chooses another parent.  S is the command's state.
fi_require() {
    [ -x "$FI" ] || { fail "mnemo-fi not found at $FI (MNEMO_FI_BIN)"; test_end; exit 1; }
    local parent=${FI_WORKDIR:-/dev/shm}
    if [ -d "$parent" ] && [ -w "$parent" ] && W=$(mktemp -d "$parent/mnemo-$TEST_NAME-XXXXXX"); then
        trap 'rm -rf "$TMP" "$W"' EXIT
    else
        W=$TMP
    fi
    W=$(realpath "$W")
    S="$W/s"
}

# fi_tiny_model DIR — the qwen3_tiny fixture model with a byte-level
# tokenizer.json (tests/cli/lib.sh): a model every loop can load in
# milliseconds (a real vocabulary would spend each run loading it).
fi_tiny_model() {
    mkdir -p "$1"
    cp "$SRC"/tests/fixtures/models/qwen3_tiny/config.json "$SRC"/tests/fixtures/models/qwen3_tiny/*.safetensors* "$1"/
    write_bytelevel_tokenizer "$1/tokenizer.json"
}

fi_class() { cls=exact; }
fi_normalize() { cat "$2"; }
fi_key() { key=$1; }
fi_prepare() { :; }

# ---------------------------------------------------------------------------
# the state of $S

# fi_list — every file under $S, relative, sorted, into the array files
# (temporary files too).
fi_list() {
    mapfile -t files < <(cd "$S" && find . -type f -printf '%P\n' | LC_ALL=C sort)
}

# fi_sums — "MD5  REL" lines for the exact and norm files of $S (one md5sum
# for all the exact ones: the loops run hundreds of points).
fi_sums() {
    local f
    local -a exact=()
    fi_list
    for f in "${files[@]}"; do
        [[ "$f" == *.tmp.* ]] && continue
        # lock files (DIR/.mnemo.lock, ingest.lock, embed.lock: util/dirlock.h)
        # name their last holder, a pid and a time, and the hash cache
        # (.mnemo-sha256.json: util/filehash.h) may be left unwritten: not outputs
        [[ "$f" == *.lock || "$f" == .mnemo-sha256.json || "$f" == */.mnemo-sha256.json ]] && continue
        fi_class "$f"
        case $cls in
        exact) exact+=("$f") ;;
        norm)
            fi_key "$f"
            printf '%s  %s\n' "$(fi_normalize "$f" "$S/$f" | md5sum | cut -c1-32)" "$key" ;;
        esac
    done
    [ ${#exact[@]} -eq 0 ] || (cd "$S" && md5sum -- "${exact[@]}")
}

fi_digest() { fi_sums; }

# fi_fresh — an empty $S with the starting state.
fi_fresh() { rm -rf "$S" && mkdir -p "$S" && fi_prepare; }

# fi_exec [ENV=V...] — runs mnemo-fi FI_CMD in $W with the fault
# environment given (MNEMO_FAULT_DIR=$S always); stdout in $W/out, stderr
# in $W/err, status in rc.  FI_LAUNCH (an array) goes before the binary:
# mpirun (its local ranks inherit the environment); then FI_FAULT_ENV
# (e.g. MNEMO_FAULT_RANK=1) goes with the faults and FI_COUNT_RANK names
# the rank whose counts give the points.
fi_exec() {
    (cd "$W" && env MNEMO_FAULT_DIR="$S" "$@" timeout -k 5 "$FI_TIMEOUT" ${FI_LAUNCH:+"${FI_LAUNCH[@]}"} "$FI" "${FI_CMD[@]}") \
        >"$W/out" 2>"$W/err"
    rc=$?
}

# ---------------------------------------------------------------------------
# verdicts

# fi_known CHECK DETAIL — whether known-issues.txt lists this failure:
# lines "LOOP OP CHECK FRAGMENT..." (# comments) where FRAGMENT (the rest
# of the line, a fixed string, "*" for any) occurs in DETAIL.
fi_known() {
    local loop op check frag
    [ -f "$FI_KNOWN" ] || return 1
    while read -r loop op check frag; do
        [[ -z "$loop" || "$loop" == \#* ]] && continue
        [ "$loop" = "$FI_NAME" ] || [ "$loop" = "*" ] || continue
        [ "$op" = "$FI_OP" ] || [ "$op" = "*" ] || continue
        [ "$check" = "$1" ] || [ "$check" = "*" ] || continue
        frag=${frag%%#*}
        frag=${frag%"${frag##*[![:space:]]}"}
        if [ "$frag" = "*" ] || [[ "$2" == *"$frag"* ]]; then
            return 0
        fi
    done <"$FI_KNOWN"
    return 1
}

# fi_bad CHECK DETAIL — one failed check at the current point.
fi_bad() {
    local where="$FI_NAME $FI_SPEC"
    if fi_known "$1" "$2"; then
        echo "KNOWN $where [$1]: $2"
        fi_known_seen=$((fi_known_seen + 1))
    else
        fail "$where [$1]: $2
     reproduce: MNEMO_FAULT=$FI_SPEC MNEMO_FAULT_DIR=$S ${FI_LAUNCH[*]:-} $FI ${FI_CMD[*]}"
    fi
    point_bad=1
}

# fi_mask [FILE] — stderr lines with their numbers masked (timings, rates).
fi_mask() { sed -E 's/[0-9][0-9.:]*/N/g' "$@"; }

# fi_reason ERRNO — sets reason to the text a message must contain for
# that errno ("alloc": out of memory).
fi_reason() {
    case $1 in
    alloc) reason="out of memory" ;;
    EIO) reason="Input/output error" ;;
    ENOSPC) reason="no space left" ;;
    EACCES) reason="Permission denied" ;;
    *) reason="" ;;
    esac
}

# fi_check_message ERRNO — stderr: its last line is "mnemo: ..." naming
# the file the fault hit (from MNEMO_FAULT_LOG: its name or its
# directory's) and the reason; the lines before it are progress lines the
# uninterrupted run prints too (numbers aside), never a second message.
# Under mpirun (FI_MPI=1) the launcher's lines are allowed: the first
# "mnemo: " line that is no progress line is the message.
fi_check_message() {
    local msg path base dir extra op n
    local -a lines
    mapfile -t lines <"$W/err.fault"
    msg=${lines[${#lines[@]} - 1]:-}
    if [ "${FI_MPI:-0}" = 1 ]; then
        msg=$(grep '^mnemo: ' "$W/err.fault" | while IFS= read -r line; do
            grep -qxF -- "$(fi_mask <<<"$line")" "$W/ref.masked" || { printf '%s\n' "$line"; break; }
        done)
    elif [ ${#lines[@]} -gt 1 ]; then
        extra=$(head -n -1 "$W/err.fault" | fi_mask | grep -vxF -f "$W/ref.masked" | head -2 | tr '\n' ' ')
        [ -z "$extra" ] || fi_bad message "more than one message: $extra / $msg"
    fi
    if [[ "$msg" != "mnemo: "* ]]; then
        fi_bad message "no 'mnemo: ' message last on stderr: $(tail -c 400 "$W/err.fault")"
        return
    fi
    fi_reason "$1"
    # a large buffer's failure may say how much it needs instead (STYLE.md:
    # "needs 12.3 GiB")
    if [ -n "$reason" ] && [[ "${msg,,}" != *"${reason,,}"* ]] &&
        ! { [ "$1" = alloc ] && [[ "$msg" =~ needs?\ [0-9.]+\ [KMGT]i?B ]]; }; then
        fi_bad message "reason '$reason' missing: $msg"
    fi
    [ "$FI_OP" = alloc ] && return
    read -r op n path <"$W/log" 2>/dev/null || return
    [ -n "$path" ] && [ "$path" != "(msync)" ] || return
    [[ "$path" =~ ^(.*)\.tmp\.[0-9]+$ ]] && path=${BASH_REMATCH[1]}
    base=${path##*/}
    dir=${path%/*}
    dir=${dir##*/}
    if [[ "$msg" != *"$base"* && "$msg" != *"$dir"* ]]; then
        fi_bad message "does not name $path: $msg"
    fi
}

# fi_check_state — no temporary file; every output absent or whole.
fi_check_state() {
    local f left="" sum
    local -A ref=()
    while read -r sum f; do ref[$f]=$sum; done <"$W/ref.sums"
    fi_sums >"$W/sums"
    while read -r sum f; do
        if [ -z "${ref[$f]:-}" ]; then
            fi_bad partial "$f: a file the uninterrupted run does not make"
        elif [ "${ref[$f]}" != "$sum" ]; then
            fi_bad partial "$f differs from the uninterrupted run's"
        fi
    done <"$W/sums"
    for f in "${files[@]}"; do # fi_sums listed them
        if [[ "$f" == *.tmp.* ]]; then
            left="$left $f"
            continue
        fi
        fi_class "$f"
        if [ "$cls" = json ] && ! jq -e . "$S/$f" >/dev/null 2>&1; then
            fi_bad partial "$f is not whole JSON"
        fi
    done
    [ -z "$left" ] || fi_bad tmp "temporary files left:$left"
}

# ---------------------------------------------------------------------------
# the loop

# fi_reference — the uninterrupted run: its counts (fi_count_OP), its state
# in $W/ref, its sums and digest, its stderr; also checks that build/mnemo
# gives the same digest (mnemo-fi is mnemo).
fi_reference() {
    local op
    fi_fresh
    rm -f "$W"/count*
    fi_exec MNEMO_FAULT_COUNT="$W/count"
    if [ "$rc" -ne 0 ]; then
        fail "$FI_NAME: the uninterrupted run failed ($rc): $(head -c 600 "$W/err")"
        return 1
    fi
    local counts="$W/count" # under mpirun: count.RANK, of the rank that injects
    [ -n "${FI_COUNT_RANK:-}" ] && counts="$W/count.$FI_COUNT_RANK"
    for op in write fsync rename open alloc; do
        eval "fi_count_$op=$(awk -v op=$op '$1 == op {print $2}' "$counts")"
    done
    rm -rf "$W/ref" && cp -a "$S" "$W/ref"
    cp "$W/err" "$W/ref.err"
    fi_mask "$W/ref.err" >"$W/ref.masked"
    fi_sums >"$W/ref.sums"
    fi_digest >"$W/ref.digest"
    fi_fresh
    (cd "$W" && ${FI_LAUNCH:+"${FI_LAUNCH[@]}"} "$BIN" "${FI_CMD[@]}") >/dev/null 2>"$W/err" ||
        fail "$FI_NAME: build/mnemo failed: $(head -c 400 "$W/err")"
    fi_digest >"$W/digest"
    cmp -s "$W/digest" "$W/ref.digest" ||
        fail "$FI_NAME: mnemo and mnemo-fi disagree: $(diff "$W/digest" "$W/ref.digest" | head -5)"
    echo "$FI_NAME: calls: write $fi_count_write, fsync $fi_count_fsync, rename $fi_count_rename, open $fi_count_open, alloc $fi_count_alloc"
}

# fi_points COUNT — the points of one operation: the first, about
# FI_POINTS evenly spaced and the last; and, when there are many calls
# (allocations), COUNT - 4^i for i = 1, 2, ...: the output paths come last,
# after the loading of models and inputs that takes most allocations.
# MNEMO_FAULT_ALL=1: every point up to FI_ALL_MAX (20000) calls, beyond
# that 2000 evenly spaced points and COUNT - 2^i.
fi_points() {
    local c=$1 k=$FI_POINTS base=4
    [ "$c" -gt 0 ] || return 0
    if [ "${MNEMO_FAULT_ALL:-0}" = 1 ]; then
        [ "$c" -le "${FI_ALL_MAX:-20000}" ] && { seq 1 "$c"; return; }
        k=2000 base=2
    fi
    [ "$c" -le $((k + 2)) ] && { seq 1 "$c"; return; }
    awk -v c="$c" -v k="$k" -v b="$base" 'BEGIN {
        for (i = 0; i <= k; i++) p[1 + int(i * (c - 1) / k)] = 1
        for (d = b; d < c / 2; d *= b) p[c - d] = 1
        for (n in p) print n }' | sort -n
}

# fi_point OP N [ERRNO [MODE]] — one injection point and its checks.
fi_point() {
    local errno=${3:-EIO} mode=${4:-} fired=0 sig
    FI_OP=$1
    FI_SPEC="$1:$2:$errno${mode:+:$mode}"
    [ "$1" = alloc ] && FI_SPEC="alloc:$2" errno=alloc
    point_bad=0
    fi_fresh
    rm -f "$W/log"
    fi_exec MNEMO_FAULT="$FI_SPEC" MNEMO_FAULT_LOG="$W/log" ${FI_FAULT_ENV:+"${FI_FAULT_ENV[@]}"}
    [ -s "$W/log" ] && fired=1 fired_points=$((fired_points + 1))
    mv "$W/err" "$W/err.fault"
    if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$W/err.fault"; then
        sig=$(grep -m1 -E 'ERROR: [A-Za-z]*Sanitizer|runtime error:|SUMMARY' "$W/err.fault")
        fi_bad sanitizer "exit $rc: $sig"
    elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        fi_bad status "timed out after ${FI_TIMEOUT}s"
    elif [ "$rc" -ge 126 ]; then
        fi_bad status "exit status $rc (signal $((rc - 128))): $(head -c 300 "$W/err.fault")"
    elif [ "$rc" -eq 0 ]; then
        fi_digest >"$W/digest"
        cmp -s "$W/digest" "$W/ref.digest" ||
            fi_bad status "exit 0 after the fault ($(cat "$W/log" 2>/dev/null)) but the result differs from the uninterrupted run's"
        [ "$fired" = 1 ] && absorbed=$((absorbed + 1))
    else
        fi_check_message "$errno"
    fi
    [ "$rc" -ne 0 ] && fi_check_state
    # the rerun, without the fault, from the state the failure left
    fi_exec
    if [ "$rc" -ne 0 ]; then
        fi_bad rerun "the rerun failed ($rc): $(head -c 300 "$W/err")"
    else
        fi_digest >"$W/digest"
        cmp -s "$W/digest" "$W/ref.digest" ||
            fi_bad rerun "the rerun's result differs: $(diff "$W/digest" "$W/ref.digest" | head -4 | tr '\n' ' ')"
    fi
    if [ "${FI_VERBOSE:-0}" = 1 ] || { [ "$point_bad" = 1 ] && [ -s "$W/log" ]; }; then
        echo "  $FI_SPEC hit $(cat "$W/log" 2>/dev/null) -> $(head -c 300 "$W/err.fault")"
    fi
    points=$((points + 1))
}

# fault_loop — the reference run, then every operation's points and the
# full-disk points.  Prints "points: NAME OP N of C" lines and a total.
fault_loop() {
    local op n c total=0
    fi_known_seen=0 absorbed=0
    fi_reference || return
    for op in ${FI_OPS:-write fsync rename open alloc}; do
        c=$(eval echo "\$fi_count_$op")
        points=0 fired_points=0
        for n in $(fi_points "$c"); do
            case $op in
            open) fi_point open "$n" ENOSPC ;; # a full disk has no room for a new file
            *) fi_point "$op" "$n" EIO ;;
            esac
        done
        echo "points: $FI_NAME $op $points of $c ($fired_points fired)"
        total=$((total + points))
    done
    # a full disk: the write that fills it is short, every later one fails
    if [[ " ${FI_OPS:-write} " == *" write "* ]]; then
        c=$fi_count_write
        points=0 fired_points=0
        for n in $(FI_POINTS=$FI_FULL_POINTS fi_points "$c"); do
            fi_point write "$n" ENOSPC full
        done
        echo "points: $FI_NAME write-full $points of $c ($fired_points fired)"
        total=$((total + points))
    fi
    echo "points: $FI_NAME total $total (absorbed $absorbed, known issues $fi_known_seen)"
}
