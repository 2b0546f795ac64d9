package auth

import (
	"errors"
	"net/http"

	"golang.org/x/crypto/bcrypt"
)

// HashPassword hashes a password for storage.
func HashPassword(pw string) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	return string(b), err
}

// Routes mounts the auth API.
func Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/login", login)
}

func login(w http.ResponseWriter, r *http.Request) {
	// TODO: count failed attempts per user
	w.WriteHeader(http.StatusOK)
}

// SessionStore keeps live sessions in memory.
type SessionStore struct {
	sessions map[string]string
}

func (s *SessionStore) Revoke(id string) error {
	return errors.New("not implemented")
}
