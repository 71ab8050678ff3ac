// Package secretbox seals shop secrets at rest with AES-256-GCM.
//
// A sealed value is: version byte (1) | 12-byte random nonce | ciphertext.
// The key comes from CREDITBRIDGE_ENCRYPTION_KEY (32 bytes, base64 or hex).
// A previous key can be given for rotation: Open tries both, Seal uses the
// current one.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

const version = 1

// Box seals and opens secrets.
type Box struct {
	current  cipher.AEAD
	previous cipher.AEAD
}

// ParseKey decodes a 32-byte key given as base64 (std or URL) or hex.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, dec := range []func(string) ([]byte, error){hex.DecodeString, base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString, base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString} {
		if b, err := dec(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("must be 32 random bytes encoded as base64 or hex (e.g. `openssl rand -base64 32`)")
}

// New returns a Box for a current key and an optional previous key.
func New(current, previous []byte) (*Box, error) {
	c, err := aead(current)
	if err != nil {
		return nil, err
	}
	b := &Box{current: c}
	if len(previous) > 0 {
		if b.previous, err = aead(previous); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func aead(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secretbox: key must be 32 bytes, got %d", len(key))
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}

// Seal encrypts plaintext.
func (b *Box) Seal(plaintext []byte) ([]byte, error) {
	out := make([]byte, 1+b.current.NonceSize(), 1+b.current.NonceSize()+len(plaintext)+b.current.Overhead())
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return b.current.Seal(out, out[1:], plaintext, []byte{version}), nil
}

// Open decrypts a sealed value.
func (b *Box) Open(sealed []byte) ([]byte, error) {
	if len(sealed) < 1+12 || sealed[0] != version {
		return nil, errors.New("secretbox: not a sealed value")
	}
	for _, a := range []cipher.AEAD{b.current, b.previous} {
		if a == nil {
			continue
		}
		if pt, err := a.Open(nil, sealed[1:1+a.NonceSize()], sealed[1+a.NonceSize():], []byte{version}); err == nil {
			return pt, nil
		}
	}
	return nil, errors.New("secretbox: cannot decrypt (wrong CREDITBRIDGE_ENCRYPTION_KEY?)")
}
