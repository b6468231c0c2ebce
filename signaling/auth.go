package signaling

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/crvnode/crvnode/protocol"
)

const (
	maxUserIDLen   = 128
	maxNickNameLen = 64
	maxTokenLen    = 4096
)

// tokenClaims are the claims crvnode reads from a login JWT: the standard
// ones (sub = userID, exp required) and, for loginByToken, the app.
type tokenClaims struct {
	AppID string `json:"appID,omitempty"`
	jwt.RegisteredClaims
}

var jwtParser = jwt.NewParser(
	jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
	jwt.WithExpirationRequired(),
)

// md5Hex is how CRVideo clients send an app secret: lower-case hex MD5.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// checkSecret compares the client's MD5 of the secret in constant time.
func checkSecret(app AppConfig, given string) *protocol.Error {
	want := md5Hex(app.Secret)
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(given))) != 1 {
		return protocol.Errorf(protocol.AcntPswdErr, "wrong appID or secret")
	}
	return nil
}

// checkToken verifies an HS256 JWT signed with the app's secret and returns
// its claims. userID, when not empty, must be the token's subject.
func checkToken(app AppConfig, token string, userID protocol.UserID) (*tokenClaims, *protocol.Error) {
	if len(token) > maxTokenLen {
		return nil, protocol.Errorf(protocol.TokenAuthInfoErr, "token too long")
	}
	claims := &tokenClaims{}
	_, err := jwtParser.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) {
		return []byte(app.Secret), nil
	})
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, protocol.Errorf(protocol.TokenTimeout, "token expired")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return nil, protocol.Errorf(protocol.CustomAuthFailed, "token signature rejected")
	default:
		return nil, protocol.Errorf(protocol.TokenAuthInfoErr, "token invalid: %v", err)
	}
	if claims.Subject == "" {
		return nil, protocol.Errorf(protocol.TokenAuthInfoErr, "token has no sub (userID)")
	}
	if userID != "" && claims.Subject != userID {
		return nil, protocol.Errorf(protocol.CustomAuthFailed, "token is for another user")
	}
	return claims, nil
}

// tokenAppID reads the appID claim of a token without verifying it, to
// find the secret that verifies it; ok is false if it is no JWT at all.
func tokenAppID(token string) (appID string, ok bool) {
	claims := &tokenClaims{}
	if len(token) > maxTokenLen {
		return "", false
	}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		return "", false
	}
	return claims.AppID, true
}

// authenticate decides a login: with a JWT in userAuthCode, or with the
// MD5 of the app secret unless the app requires tokens. It returns the
// userID to log in as (a token's subject when the request left it empty).
func authenticate(app AppConfig, p *protocol.LoginParams) (protocol.UserID, time.Time, *protocol.Error) {
	code := strings.TrimSpace(p.UserAuthCode)
	if code != "" {
		if app.NoTokens {
			return "", time.Time{}, errNoTokens(app)
		}
		claims, e := checkToken(app, code, p.UserID)
		if e != nil {
			return "", time.Time{}, e
		}
		return claims.Subject, claims.ExpiresAt.Time, nil
	}
	if app.RequireToken {
		return "", time.Time{}, protocol.Errorf(protocol.CustomAuthNoInfo, "app %q requires a token in userAuthCode", app.ID)
	}
	if e := checkSecret(app, p.AppSecret); e != nil {
		return "", time.Time{}, e
	}
	return p.UserID, time.Time{}, nil
}

// errNoTokens refuses a token login to an app that has them off.
func errNoTokens(app AppConfig) *protocol.Error {
	return protocol.Errorf(protocol.CustomAuthNotSupport, "app %q does not accept token logins", app.ID)
}

// validName checks a userID or nickname: not empty, bounded, printable.
func validName(s string, max int) bool {
	if s == "" || len(s) > max || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// equalSecret compares two secrets in constant time.
func equalSecret(want, given string) bool {
	return subtle.ConstantTimeCompare([]byte(want), []byte(given)) == 1
}
