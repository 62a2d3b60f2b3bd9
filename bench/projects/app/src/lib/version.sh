# version — the app's version string
APP_VERSION=1.4.2
version() {
	echo "app $APP_VERSION"
}
