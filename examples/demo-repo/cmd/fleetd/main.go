package main

import (
	"net/http"

	"github.com/acme/fleet/internal/agents"
	"github.com/acme/fleet/internal/auth"
)

func main() {
	mux := http.NewServeMux()
	agents.NewAgentService().Register(mux)
	auth.Routes(mux)
	_ = http.ListenAndServe(":8080", mux)
}
