/**
 * The service health check as a POSIX sh script, for a probe container on the job's network
 * (a remote engine, whose container addresses berth cannot dial). It does what gitlab-runner's
 * helper `health-check` command does (commands/helpers/health_check.go: dial the service's TCP
 * ports in a loop, succeed as soon as one accepts a connection), with whatever tool the job's
 * build image has: `nc -z` (OpenBSD/traditional netcat, busybox with NC_EXTRA), busybox's small
 * `nc ... -e true`, bash's `/dev/tcp`, `curl`, then `wget`. Exit codes: 0 a port answered,
 * 1 its own deadline passed, 3 the image has none of these tools. Its lines start with
 * `berth-probe: ` ("open PORT (TOOL)", "dial tcp HOST:PORT: REASON", "no tool").
 *
 *   sh -c "$PROBE_SCRIPT" berth-probe HOST LIMIT_SECONDS PORT...
 */

export const PROBE_PREFIX = 'berth-probe: ';
export const PROBE_EXIT_OPEN = 0;
export const PROBE_EXIT_NO_TOOL = 3;

export const PROBE_SCRIPT = `
host=$1; limit=$2; shift 2
say() { echo "berth-probe: $*"; }
urlhost=$host
case $host in *:*) urlhost="[$host]" ;; esac
t=
if command -v timeout >/dev/null 2>&1 && timeout 2 true >/dev/null 2>&1; then t="timeout 3"; fi
unsupported() { case $1 in *sage*|*nvalid*|*nrecognized*|*llegal*|*nknown\\ option*) return 0 ;; esac; return 1; }
tool=
if command -v nc >/dev/null 2>&1; then
  if ! unsupported "$($t nc -z -w 1 127.0.0.1 1 </dev/null 2>&1)"; then tool=nc-z
  elif ! unsupported "$($t nc -w 1 127.0.0.1 1 -e true </dev/null 2>&1)"; then tool=nc-e
  fi
fi
if [ -z "$tool" ]; then
  if command -v bash >/dev/null 2>&1; then tool=bash
  elif command -v curl >/dev/null 2>&1; then tool=curl
  elif command -v wget >/dev/null 2>&1; then tool=wget
  else say "no tool"; exit 3
  fi
fi
dial() {
  case $tool in
    nc-z) out=$($t nc -z -w 1 "$host" "$1" </dev/null 2>&1) ;;
    nc-e) out=$($t nc -w 1 "$host" "$1" -e true </dev/null 2>&1) ;;
    bash) out=$($t bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$1" 2>&1) ;;
    curl)
      out=$(curl -sS -o /dev/null -w ' connect=%{time_connect}' --connect-timeout 1 -m 2 "http://$urlhost:$1/" 2>&1)
      case $out in *connect=0.000000*|*connect=0,000000*) out=\${out% connect=*}; return 1 ;; *connect=*) return 0 ;; esac
      return 1 ;;
    wget)
      out=$($t wget -q -O /dev/null "http://$urlhost:$1/" 2>&1) && return 0
      case $out in *"can't connect"*|*efused*|*"No route"*|*nreachable*|*"timed out"*|*"bad address"*|*resolve*) return 1 ;; esac
      return 0 ;;
  esac
}
reason() { r=$(echo \${out##*: }); [ -n "$r" ] || r="no connection"; echo "$r"; }
start=$(date +%s 2>/dev/null) || start=
rounds=0
last=
while :; do
  msg=
  for p in "$@"; do
    if dial "$p"; then say "open $p ($tool)"; exit 0; fi
    msg="\${msg:+$msg; }dial tcp $host:$p: $(reason)"
  done
  if [ "$msg" != "$last" ]; then say "$msg"; last=$msg; fi
  rounds=$((rounds + 1))
  if [ -n "$start" ]; then now=$(date +%s); [ $((now - start)) -lt "$limit" ] || exit 1
  elif [ "$rounds" -ge $((limit * 5)) ]; then exit 1
  fi
  sleep 0.2 2>/dev/null || sleep 1
done
`;

/** The container's command: `sh -c SCRIPT berth-probe HOST LIMIT PORT...`. */
export function probeCommand(host: string, ports: readonly number[], limitSeconds: number): { entrypoint: string[]; cmd: string[] } {
  return { entrypoint: ['sh', '-c'], cmd: [PROBE_SCRIPT, 'berth-probe', host, String(Math.max(1, Math.ceil(limitSeconds))), ...ports.map(String)] };
}

export interface ProbeLines {
  /** The port that answered ("open PORT"). */
  openPort: number | null;
  /** The last "dial tcp ..." line: why no port answered yet. */
  lastError: string | null;
  noTool: boolean;
}

/** Reads the probe's output (docker logs, with or without timestamps). */
export function parseProbeOutput(logs: string): ProbeLines {
  const out: ProbeLines = { openPort: null, lastError: null, noTool: false };
  for (const line of logs.split('\n')) {
    const at = line.indexOf(PROBE_PREFIX);
    if (at < 0) continue;
    const text = line.slice(at + PROBE_PREFIX.length).trimEnd();
    const open = /^open (\d+)/.exec(text);
    if (open) out.openPort = Number(open[1]);
    else if (text === 'no tool') out.noTool = true;
    else if (text.startsWith('dial tcp ')) out.lastError = text;
  }
  return out;
}
