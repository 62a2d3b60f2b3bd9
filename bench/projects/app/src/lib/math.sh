# add A B, mul A B — integer arithmetic
add() {
	echo $(($1 + $2))
}
mul() {
	echo $(($1 * $2))
}
