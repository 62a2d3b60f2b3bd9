# main: dispatch the first argument to a command
cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
greet | add | mul | upper | rev | version) "$cmd" "$@" ;;
*)
	echo "usage: app greet|add|mul|upper|rev|version [args]" >&2
	exit 2
	;;
esac
