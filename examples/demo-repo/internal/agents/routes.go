package agents

import "net/http"

// Register mounts the agent API on mux.
func (s *AgentService) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/agents/{id}/heartbeat", s.heartbeat)
	mux.HandleFunc("GET /api/agents", s.list)
}

func (s *AgentService) list(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusOK)
}
