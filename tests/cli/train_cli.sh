#!/usr/bin/env bash
# End-to-end `ocrkit train` on generated VIN crops: --dump-config, config and device errors that name
# the problem, Ctrl-C (SIGINT) writing last.ckpt with exit 130, and --resume continuing from that step.
# Usage: train_cli.sh OCRKIT_BINARY SOURCE_DIR
set -uo pipefail
BIN=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$BIN" train --config "$SRC/configs/vin.yaml" --set train.batch_size=8 --dump-config > "$T/dump.yaml" || fail "dump-config"
grep -q "batch_size: 8" "$T/dump.yaml" || fail "--set not applied in --dump-config"
grep -q "charset: vin" "$T/dump.yaml" || fail "config file not applied in --dump-config"

msg=$("$BIN" train --config "$SRC/configs/vin.yaml" --set train.lrr=1 2>&1); rc=$?
[ $rc -eq 1 ] || fail "unknown key: exit $rc"
echo "$msg" | grep -q "unknown config key 'train.lrr'" || fail "unknown key message: $msg"
printf 'train:\n  batch_size: 8\n  colour: red\n' > "$T/bad.yaml"
msg=$("$BIN" train --config "$T/bad.yaml" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "bad file: exit $rc"
echo "$msg" | grep -q "$T/bad.yaml:3: unknown config key 'train.colour'" || fail "bad file message: $msg"
if ! command -v nvidia-smi >/dev/null; then
  msg=$("$BIN" train --config "$SRC/configs/vin.yaml" --device cuda 2>&1); rc=$?
  [ $rc -eq 1 ] || fail "unavailable device: exit $rc"
  echo "$msg" | grep -q "CUDA is not available" || fail "unavailable device message: $msg"
fi

"$BIN" -q data synth-vin --count 64 --out "$T/vin" --seed 5 || fail "synth-vin"
small=(--set model.channels=[8,16,16,32] --set model.hidden=32 --set model.layers=1 --set data.train=["$T/vin"]
       --set data.val=["$T/vin"] --set data.val_max=16 --set train.batch_size=8 --set train.val_every=100000
       --set train.log_every=1 --set runtime.threads=1 --set data.workers=1)
"$BIN" train --config "$SRC/configs/vin.yaml" "${small[@]}" --set train.max_steps=100000 --out "$T/run" \
  > "$T/train.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  grep -Eq '"step":3[,}]' "$T/run/metrics.jsonl" 2>/dev/null && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.2
done
kill -INT $pid
wait $pid; rc=$?
[ $rc -eq 130 ] || { cat "$T/train.log"; fail "SIGINT: exit $rc, expected 130"; }
[ -f "$T/run/last.ckpt" ] && [ -f "$T/run/last.state" ] || fail "SIGINT left no last.ckpt/last.state"
ls "$T/run" | grep -q '\.tmp\.' && fail "temporary files left behind"
stopped=$(grep -o 'interrupted at step [0-9]*' "$T/train.log" | grep -o '[0-9]*$')
[ -n "$stopped" ] || fail "no 'interrupted at step' line"
target=$((stopped + 3))
"$BIN" train --resume "$T/run" --set train.max_steps=$target > "$T/resume.log" 2>&1 || { cat "$T/resume.log"; fail "resume"; }
grep -q "resumed $T/run at step $stopped" "$T/resume.log" || fail "resume did not start at step $stopped"
[ "$(tail -1 "$T/run/metrics.jsonl" | grep -o '"step":[0-9]*')" = "\"step\":$target" ] || fail "resume did not reach $target"
echo ok
