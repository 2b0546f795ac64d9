package agents

import (
	"net/http"
	"os"
	"sync"
	"time"
)

// AgentService owns the agent registry.
type AgentService struct {
	mu       sync.Mutex
	lastSeen map[string]time.Time
	token    string
}

// NewAgentService reads the shared agent secret from the environment.
func NewAgentService() *AgentService {
	return &AgentService{lastSeen: map[string]time.Time{}, token: os.Getenv("FLEET_AGENT_TOKEN")}
}

// MarkOffline returns the agents that missed three heartbeats.
func (s *AgentService) MarkOffline(now time.Time, interval time.Duration) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var offline []string
	for id, seen := range s.lastSeen {
		if now.Sub(seen) > 3*interval {
			offline = append(offline, id)
		}
	}
	return offline
}

func (s *AgentService) heartbeat(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.lastSeen[r.PathValue("id")] = time.Now()
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
