package auth

import "testing"

func TestHashPassword(t *testing.T) {
	if h, err := HashPassword("pw"); err != nil || h == "pw" {
		t.Fatal("password not hashed")
	}
}
