package tierflow

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// SignSurveyToken returns a URL-safe token naming the case and its expiry, signed
// with key (HMAC-SHA256). Same inputs give the same token, so a retried activity
// sends the same link.
func SignSurveyToken(key []byte, caseID string, expires time.Time) string {
	payload := caseID + "." + strconv.FormatInt(expires.Unix(), 10)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(surveyMAC(key, payload))
}

// VerifySurveyToken checks the signature and returns the case and expiry. A bad or
// forged token is CodeNotFound; an expired one is CodeGone (with the case ID).
func VerifySurveyToken(key []byte, token string, now time.Time) (caseID string, expires time.Time, err error) {
	bad := Errorf(CodeNotFound, "survey link is not valid")
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return "", time.Time{}, bad
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p)
	mac, err2 := enc.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, surveyMAC(key, string(payload))) {
		return "", time.Time{}, bad
	}
	i := strings.LastIndexByte(string(payload), '.')
	if i <= 0 {
		return "", time.Time{}, bad
	}
	secs, err := strconv.ParseInt(string(payload[i+1:]), 10, 64)
	if err != nil {
		return "", time.Time{}, bad
	}
	caseID, expires = string(payload[:i]), time.Unix(secs, 0).UTC()
	if !now.Before(expires) {
		return caseID, expires, Errorf(CodeGone, "this survey expired on %s", expires.Format("2 January 2006"))
	}
	return caseID, expires, nil
}

func surveyMAC(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("tierflow-survey\x00" + payload))
	return m.Sum(nil)
}
