package fakesendgrid

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFailAllLastsUntilRecover(t *testing.T) {
	s := New(t, key)
	s.FailAll(Fault{Status: http.StatusTooManyRequests, RetryAfter: 5 * time.Second})
	for range 3 {
		a := post(t, s, key, validBody)
		assert.Equal(t, http.StatusTooManyRequests, a.status)
		assert.Equal(t, "5", a.header.Get("Retry-After"))
	}
	s.FailNext(1, Fault{Status: http.StatusInternalServerError})
	assert.Equal(t, http.StatusInternalServerError, post(t, s, key, validBody).status, "a scripted fault goes first")
	s.Recover()
	assert.Equal(t, http.StatusAccepted, post(t, s, key, validBody).status)
	assert.Len(t, s.Accepted(), 1)
	assert.Equal(t, 5, s.Requests())
}

func TestHangNeverAnswersNorRecords(t *testing.T) {
	s := New(t, key)
	s.FailAll(Fault{Mode: Hang})
	req, err := http.NewRequest(http.MethodPost, s.URL+"/v3/mail/send", strings.NewReader(validBody))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	begin := time.Now()
	_, err = (&http.Client{Timeout: 300 * time.Millisecond}).Do(req)
	require.Error(t, err, "the caller times out")
	assert.GreaterOrEqual(t, time.Since(begin), 300*time.Millisecond)
	assert.Empty(t, s.Accepted())
}
