package auth

import "golang.org/x/oauth2"

var googleConfig = &oauth2.Config{
	ClientID:     "918589964582-n1qyl5n3a2lm8t707rlsuvzcspr85pgx.apps.googleusercontent.com",
	ClientSecret: "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",
	Endpoint:     oauth2.Endpoint{TokenURL: "https://oauth2.googleapis.com/token"},
	Scopes:       []string{"openid", "email"},
}
