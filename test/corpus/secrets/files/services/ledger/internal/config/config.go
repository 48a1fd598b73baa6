package config

import (
	"errors"
	"os"
)

type Config struct {
	DBPassword string `env:"DB_PASSWORD,required"`
	APIToken   string `json:"api_token" yaml:"api_token"`
}

var defaultClient = &Client{
	BaseURL: "https://ledger.acme-corp.net",
	Token:   "epBqnxyDM1WbGSgCrZXpjJR1B7NdQGImQWNieZKD",
}

var ErrInvalidToken = errors.New("invalid token")

func Load() (*Config, error) {
	token := os.Getenv("LEDGER_TOKEN")
	password, ok := os.LookupEnv("DB_PASSWORD")
	if !ok {
		return nil, errors.New("DB_PASSWORD not set")
	}
	return &Config{DBPassword: password, APIToken: token}, nil
}
