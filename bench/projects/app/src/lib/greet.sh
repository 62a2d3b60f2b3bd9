# greet NAME — the friendly part of the app
greet() {
	# default to "world"
	echo "hello, ${1:-world}"
}
