// Dialer mode: `pion-peer [flags] URL` plays the dialing side of the signaling protocol, like
// `oxirtc dial` and peers/peer-dial.mjs, with the same flags and checks (echo_check.go). Prints one
// JSON object; exit 0 only if every check passed. Run it in a loopback-only namespace (peers/cell.mjs).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pion/webrtc/v3"
)

type dialOpts struct {
	url, mode, label, sizes, closeFrom string
	messages, size, maxRetransmits     int
	binary, unordered                  bool
	timeout                            time.Duration
}

type dialResult struct {
	OK               bool                   `json:"ok"`
	Impl             string                 `json:"impl"`
	Version          string                 `json:"version"`
	Mode             string                 `json:"mode"`
	Signal           string                 `json:"signal"`
	LocalCandidates  []string               `json:"localCandidates"`
	RemoteCandidates []string               `json:"remoteCandidates"`
	SignalingMs      int64                  `json:"signalingMs"`
	ConnectionState  string                 `json:"connectionState"`
	DC               map[string]interface{} `json:"dc"`
	Checks           map[string]bool        `json:"checks"`
	Events           []string               `json:"events"`
	Error            string                 `json:"error,omitempty"`
	TotalMs          int64                  `json:"totalMs"`
}

func candLines(sdp string) []string {
	out := []string{}
	for _, l := range strings.Split(sdp, "\r\n") {
		if strings.HasPrefix(l, "a=candidate:") {
			out = append(out, l[2:])
		}
	}
	return out
}

// postJSON POSTs body; retries for 10 s while the server is not listening yet.
func postJSON(u string, body interface{}) (map[string]interface{}, error) {
	b, _ := json.Marshal(body)
	end := time.Now().Add(10 * time.Second)
	client := &http.Client{Timeout: 15 * time.Second}
	for {
		res, err := client.Post(u, "application/json", bytes.NewReader(b))
		if err != nil {
			if errors.Is(err, syscall.ECONNREFUSED) && time.Now().Before(end) {
				time.Sleep(200 * time.Millisecond)
				continue
			}
			return nil, err
		}
		data, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		if res.StatusCode != 200 {
			s := string(data)
			if len(s) > 300 {
				s = s[:300]
			}
			return nil, fmt.Errorf("signaling POST -> HTTP %d: %s", res.StatusCode, s)
		}
		out := map[string]interface{}{}
		if len(bytes.TrimSpace(data)) > 0 {
			if err := json.Unmarshal(data, &out); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
}

// waitFor polls cond every 20 ms; false after limit.
func waitFor(cond func() bool, limit time.Duration) bool {
	end := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(end) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

func runDial(o dialOpts) int {
	t0 := time.Now()
	res := &dialResult{Impl: "pion", Version: pionVersion, Mode: o.mode, Signal: o.url, DC: map[string]interface{}{}, Checks: map[string]bool{}, Events: []string{}}
	var mu sync.Mutex
	ev := func(e string) {
		mu.Lock()
		defer mu.Unlock()
		res.Events = append(res.Events, fmt.Sprintf("%dms %s", time.Since(t0).Milliseconds(), e))
	}
	finish := func() int {
		res.TotalMs = time.Since(t0).Milliseconds()
		mu.Lock()
		b, _ := json.MarshalIndent(res, "", " ")
		ok := res.OK
		mu.Unlock()
		fmt.Println(string(b))
		if ok {
			return 0
		}
		return 1
	}
	fail := func(err error) int { res.Error = err.Error(); return finish() }

	u, err := url.Parse(o.url)
	if err != nil {
		return fail(err)
	}
	if !regexp.MustCompile(`^(127\.\d+\.\d+\.\d+|::1|localhost)$`).MatchString(u.Hostname()) {
		return fail(fmt.Errorf("refusing non-loopback signaling host %s", u.Hostname()))
	}
	if o.mode != "offer" && o.mode != "answer" {
		return fail(fmt.Errorf("--mode must be offer or answer"))
	}
	partial := o.maxRetransmits >= 0
	if o.mode == "answer" && (o.unordered || partial) {
		return fail(fmt.Errorf("--unordered and --max-retransmits need --mode offer (the server creates the channel in answer mode)"))
	}
	if o.closeFrom != "" && o.closeFrom != "us" && o.closeFrom != "peer" {
		return fail(fmt.Errorf("--close-from must be us or peer"))
	}
	sizes, err := parseSizes(o.sizes)
	if err != nil {
		return fail(err)
	}
	texts, bins := messages(o.messages, o.size, sizes, o.binary)
	check := newEchoCheck(texts, bins, !o.unordered, partial)

	pc, err := newPC()
	if err != nil {
		return fail(err)
	}
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) { ev("pc " + st.String()) })
	pc.OnICEConnectionStateChange(func(st webrtc.ICEConnectionState) { ev("ice " + st.String()) })
	var channel *webrtc.DataChannel
	opened, closed := false, false
	lastMessage := time.Now()
	var sendErrors []string
	wire := func(dc *webrtc.DataChannel) {
		mu.Lock()
		if channel != nil {
			mu.Unlock()
			return
		}
		channel = dc
		res.DC["label"] = dc.Label()
		res.DC["ordered"] = dc.Ordered()
		if mr := dc.MaxRetransmits(); mr != nil {
			res.DC["maxRetransmits"] = *mr
		}
		mu.Unlock()
		dc.OnOpen(func() {
			ev("dc open " + dc.Label())
			mu.Lock()
			res.DC["openMs"] = time.Since(t0).Milliseconds()
			lastMessage = time.Now()
			mu.Unlock()
			send := func(err error) {
				if err != nil && len(sendErrors) < 5 {
					mu.Lock()
					sendErrors = append(sendErrors, err.Error())
					mu.Unlock()
				}
			}
			for _, t := range texts {
				send(dc.SendText(t))
			}
			for _, b := range bins {
				send(dc.Send(b))
			}
			mu.Lock()
			opened = true
			mu.Unlock()
		})
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			if m.IsString && strings.HasPrefix(string(m.Data), "echo-me:") {
				_ = dc.SendText("echo-reply:" + string(m.Data)[8:])
				return
			}
			mu.Lock()
			defer mu.Unlock()
			lastMessage = time.Now()
			check.add(m.IsString, m.Data)
			if check.complete() {
				if _, ok := res.DC["allEchoedMs"]; !ok {
					res.DC["allEchoedMs"] = time.Since(t0).Milliseconds()
				}
			}
		})
		dc.OnClose(func() {
			ev("dc close")
			mu.Lock()
			closed = true
			mu.Unlock()
		})
	}
	locked := func(f func() bool) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return f() }
	}
	err = func() error {
		if o.mode == "offer" {
			ordered := !o.unordered
			init := &webrtc.DataChannelInit{Ordered: &ordered}
			if partial {
				mr := uint16(o.maxRetransmits)
				init.MaxRetransmits = &mr
			}
			dc, err := pc.CreateDataChannel(o.label, init)
			if err != nil {
				return err
			}
			wire(dc)
			off, err := pc.CreateOffer(nil)
			if err != nil {
				return err
			}
			sdp, err := local(pc, off)
			if err != nil {
				return err
			}
			sdp = loopbackOnly(sdp)
			res.LocalCandidates = candLines(sdp)
			ans, err := postJSON(o.url, map[string]interface{}{"type": "offer", "sdp": sdp, "label": o.label})
			if err != nil {
				return err
			}
			asdp, _ := ans["sdp"].(string)
			if ans["type"] != "answer" || asdp == "" {
				return fmt.Errorf("the server's reply is not {type:\"answer\",sdp}")
			}
			res.RemoteCandidates = candLines(asdp)
			return pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: loopbackOnly(asdp)})
		}
		pc.OnDataChannel(wire)
		off, err := postJSON(o.url, map[string]interface{}{"type": "request-offer", "label": o.label})
		if err != nil {
			return err
		}
		osdp, _ := off["sdp"].(string)
		if off["type"] != "offer" || osdp == "" {
			return fmt.Errorf("the server's reply is not {type:\"offer\",sdp}")
		}
		res.RemoteCandidates = candLines(osdp)
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: loopbackOnly(osdp)}); err != nil {
			return err
		}
		ans, err := pc.CreateAnswer(nil)
		if err != nil {
			return err
		}
		sdp, err := local(pc, ans)
		if err != nil {
			return err
		}
		sdp = loopbackOnly(sdp)
		res.LocalCandidates = candLines(sdp)
		_, err = postJSON(o.url, map[string]interface{}{"type": "answer", "sdp": sdp, "session": off["session"]})
		return err
	}()
	if err == nil {
		res.SignalingMs = time.Since(t0).Milliseconds()
		if !waitFor(locked(func() bool { return opened || closed }), o.timeout) {
			err = fmt.Errorf("the data channel did not open within %s", o.timeout)
		}
	}
	if err == nil {
		// What a partially reliable channel dropped never comes: stop once nothing came for 1 s.
		if !waitFor(locked(func() bool {
			return check.complete() || closed || (partial && time.Since(lastMessage) > time.Second)
		}), o.timeout) {
			ev("echo timeout")
		}
		mu.Lock()
		res.Checks["dataChannelEcho"] = check.passed()
		ch := channel
		mu.Unlock()
		if o.closeFrom != "" {
			// The channel must close on both ends while the connection stays up (RFC 8831 §6.7).
			t := time.Now()
			if o.closeFrom == "us" {
				_ = ch.Close()
			} else {
				_ = ch.SendText("cmd:close")
			}
			done := waitFor(locked(func() bool { return closed }), o.timeout)
			closeMs := time.Since(t).Milliseconds()
			time.Sleep(200 * time.Millisecond)
			state := pc.ConnectionState()
			mu.Lock()
			res.DC["close"] = map[string]interface{}{"from": o.closeFrom, "closed": done, "closeMs": closeMs, "connectionAfterClose": state.String()}
			res.Checks["channelClosed"] = done && state == webrtc.PeerConnectionStateConnected
			mu.Unlock()
			time.Sleep(300 * time.Millisecond) // the server checks its side 250 ms after its close
		} else if ch != nil {
			_ = ch.Close() // the server sees the close and ends its session
			time.Sleep(300 * time.Millisecond)
		}
	}
	mu.Lock()
	if err != nil {
		res.Error = err.Error()
	}
	res.DC["sent"], res.DC["echoed"] = len(texts), check.echoed
	res.DC["binarySent"], res.DC["binaryEchoed"] = len(bins), check.binaryEchoed
	res.DC["mismatched"] = check.mismatch
	if len(sendErrors) > 0 {
		res.DC["sendErrors"] = sendErrors
	}
	res.OK = res.Error == "" && len(res.Checks) > 0
	for _, v := range res.Checks {
		res.OK = res.OK && v
	}
	mu.Unlock()
	res.ConnectionState = pc.ConnectionState().String()
	_ = pc.Close()
	return finish()
}
