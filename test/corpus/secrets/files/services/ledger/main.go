package main

import "flag"

func main() {
	token := flag.String("token", "", "API token for the ledger")
	passwordFile := flag.String("password-file", "/run/secrets/db", "file holding the DB password")
	flag.Parse()
	run(*token, *passwordFile)
}
