#!/usr/bin/env bash
# ternd --check-config against the shipped config, a good custom config and broken ones: the
# output must be "ok" for good files and, for bad ones, name the file, line, column and key of
# every error, with a non-zero exit. No network: ternd only reads files in this mode.
# usage: check_config.sh TERND CONF_TERND_YAML
set -u
ternd=$1
shipped=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# run NAME EXPECTED_RC ARGS...: runs ternd (bounded by timeout), keeps output in $out.
run() {
  local name=$1 want=$2
  shift 2
  out=$(timeout 10 "$ternd" "$@" 2>&1)
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    fail "$name: exit $rc, expected $want; output:"
    echo "$out"
  fi
}

expect() {  # expect NAME FIXED_STRING: $out must contain it
  if ! grep -qF -- "$2" <<<"$out"; then
    fail "$1: output lacks '$2'; output:"
    echo "$out"
  fi
}

run "shipped config" 0 --check-config -c "$shipped"
[ "$out" = "ok" ] || fail "shipped config: expected exactly 'ok', got '$out'"

run "built-in defaults" 0 --check-config
[ "$out" = "ok" ] || fail "built-in defaults: expected exactly 'ok', got '$out'"

cat >"$dir/good.yaml" <<'YAML'
server:
  listen: ["127.53.254.1:5353", "[::1]:5354"]
  access-control: [{allow: loopback}, {refuse: private}, {deny: 192.0.2.0/24}]
resolver: {mode: forward}
forward:
  - {zone: ".", upstreams: ["127.0.0.1:5301"]}
  - {zone: Example.Org, upstreams: [127.0.0.2]}
cache: {max-size: 16MiB, max-ttl: 6h}
YAML
run "good custom config" 0 --check-config --config "$dir/good.yaml"
[ "$out" = "ok" ] || fail "good custom config: expected exactly 'ok', got '$out'"

cat >"$dir/bad.yaml" <<'YAML'
server:
  listen: ["127.0.0.1:53", "::1:53"]
  udp-payload-size: 9000
  acces-control: [{allow: 127.0.0.0/8}]
resolver:
  mode: forward
cache:
  max-ttl: 10
YAML
run "broken config" 1 --check-config -c "$dir/bad.yaml"
expect "broken config" "$dir/bad.yaml:2:28: server.listen[1]: expected an address:port like 127.0.0.1:53"
expect "broken config" "$dir/bad.yaml:3:21: server.udp-payload-size: must be within 512..4096"
expect "broken config" "$dir/bad.yaml:4:3: server.acces-control: unknown key; did you mean \"access-control\"?"
expect "broken config" "$dir/bad.yaml:6:9: resolver.mode: forward mode needs a forward zone for \".\""
expect "broken config" "$dir/bad.yaml:8:12: cache.max-ttl: expected a duration"
lines=$(grep -c . <<<"$out")
[ "$lines" -eq 5 ] || fail "broken config: expected 5 error lines, got $lines"
grep -qx ok <<<"$out" && fail "broken config: printed ok"

printf 'server:\n  listen: ["127.0.0.1:53"\n  user: x\n' >"$dir/syntax.yaml"
run "YAML syntax error" 1 --check-config -c "$dir/syntax.yaml"
expect "YAML syntax error" "$dir/syntax.yaml:"
expect "YAML syntax error" "YAML syntax error"

run "missing file" 1 --check-config -c "$dir/nope.yaml"
expect "missing file" "$dir/nope.yaml: cannot open"

# The foreground run judges the file the same way before doing anything else.
run "run with a broken config" 1 -c "$dir/bad.yaml"
expect "run with a broken config" "server.listen[1]"
# A good file starts serving; SIGTERM after 3 s must end it cleanly (exit 0).
out=$(timeout --preserve-status -s TERM 3 "$ternd" -c "$dir/good.yaml" 2>&1)
rc=$?
[ "$rc" -eq 0 ] || { fail "run with a good config: exit $rc after SIGTERM, expected 0; output:"; echo "$out"; }
expect "run with a good config" "ternd started"

run "unknown flag" 2 --check-konfig
expect "unknown flag" "unknown option '--check-konfig'"
run "-c without a file" 2 -c
run "version" 0 --version
expect "version" "ternd "
run "help" 0 --help
expect "help" "--check-config"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all check_config cases passed"
