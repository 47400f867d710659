/**
 * Why a watchdog: the JVM must never outlive the Node process that started it, even when
 * that process is SIGKILLed, crashes, or jest is interrupted, where no Node code runs. So
 * Node does not spawn java itself but this tiny `sh` script, holding the write end of its
 * stdin pipe. The kernel closes that pipe whenever Node dies, however it dies; the script's
 * `cat` then sees EOF and the script stops java (SIGTERM, SIGKILL after a grace period) and
 * deletes the data dir. stop() in Node uses the same path: it just closes the pipe.
 *
 * Details that matter: a non-interactive sh gives background jobs /dev/null as stdin, so
 * the pipe is saved on fd 3 first. Background jobs also ignore SIGINT, so Ctrl-C reaches
 * java only through the trap below (TERM/INT/HUP on the sh stop java too). If java exits
 * on its own, the script exits with its code and Node notices through the `exit` event.
 * The watcher keeps no stdout/stderr, so a caller's output pipes close when the tool exits.
 *
 * Arguments: $1 pid file, $2 grace seconds, $3 data dir to delete ('' keeps it), rest: java.
 */
export const WATCHDOG_SCRIPT = `
pidfile=$1; grace=$2; datadir=$3; shift 3
exec 3<&0
"$@" </dev/null 3<&- &
child=$!
echo "$child" > "$pidfile"
stop() {
  kill -TERM "$child" 2>/dev/null
  i=0
  while kill -0 "$child" 2>/dev/null && [ "$i" -lt $((grace * 10)) ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$child" 2>/dev/null
}
( cat <&3; stop ) >/dev/null 2>&1 &
exec 3<&-
trap 'stop' TERM INT HUP
wait "$child"; code=$?
while kill -0 "$child" 2>/dev/null; do wait "$child"; code=$?; done
[ -n "$datadir" ] && rm -rf "$datadir"
exit "$code"
`;
