// Pion (pion/webrtc v3, Debian's golang-github-pion-webrtc.v3-dev) as a peer of the signaling protocol
// in docs/interop-signaling.md. Built offline by scripts/install-test-deps.sh into interop/.build/pion-peer.
//
// Server (like `oxirtc echo`):
//
//	pion-peer [--once] [--port 0] [--session-timeout 60s] [--lifetime 300s]
//
// prints `LISTENING http://127.0.0.1:PORT/offer`, then one `SESSION {json}` line per session. On every
// channel it sends `echo-me:hello-from-pion` when it opens, echoes every other message unchanged, and
// `cmd:close` closes the channel from this side. A channel that closes while the connection stays up
// counts in `channelsClosed`; the session then ends. With -once: exit after one session, 0 if it echoed.
//
// Dialer (like `oxirtc dial`, with the same flags, see dial.go): pion-peer [flags] URL (or --dial URL).
// Media dialer (VP8 + Opus against a server that reflects them, see media.go): pion-peer --media
// [--mode offer|answer] [--window 5] URL.
// Go's flag package takes --flag and -flag alike.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v3"
)

type msg struct {
	Type    string `json:"type"`
	SDP     string `json:"sdp,omitempty"`
	Session string `json:"session,omitempty"`
	Label   string `json:"label,omitempty"`
}

type stats struct {
	Impl           string   `json:"impl"`
	Version        string   `json:"version"`
	Label          string   `json:"label"`
	Echoed         int      `json:"echoed"`
	EchoedBinary   int      `json:"echoedBinary"`
	EchoMeReplied  bool     `json:"echoMeReplied"`
	ChannelsClosed int      `json:"channelsClosed"`
	Events         []string `json:"events"`
	OK             bool     `json:"ok"`
}

type session struct {
	id   string
	pc   *webrtc.PeerConnection
	t0   time.Time
	mu   sync.Mutex
	st   stats
	done chan struct{}
	once sync.Once
}

func (s *session) ev(e string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.st.Events) < 100 {
		s.st.Events = append(s.st.Events, fmt.Sprintf("%dms %s", time.Since(s.t0).Milliseconds(), e))
	}
}

func (s *session) finish() { s.once.Do(func() { close(s.done) }) }

// loopbackOnly drops the non-loopback a=candidate lines of an SDP.
func loopbackOnly(sdp string) string {
	var out []string
	for _, l := range strings.Split(sdp, "\r\n") {
		if strings.HasPrefix(l, "a=candidate:") {
			f := strings.Fields(l)
			if len(f) < 5 || !(strings.HasPrefix(f[4], "127.") || f[4] == "::1") {
				continue
			}
		}
		out = append(out, l)
	}
	return strings.Join(out, "\r\n")
}

// newPC: 127.0.0.1 host candidates only (pion skips loopback unless asked), UDP4, no mDNS, no STUN.
// Pion's warnings go to stderr (the cell runner shows the last lines; PION_LOG_DEBUG=all etc. for more).
func newPC() (*webrtc.PeerConnection, error) { return newPCWith() }

// newPCWith is newPC with more API options (media.go: a media engine and interceptors).
func newPCWith(opts ...func(*webrtc.API)) (*webrtc.PeerConnection, error) {
	lf := logging.NewDefaultLoggerFactory()
	lf.Writer = os.Stderr // stdout carries LISTENING/SESSION lines or the dialer's JSON
	if lf.DefaultLogLevel < logging.LogLevelWarn {
		lf.DefaultLogLevel = logging.LogLevelWarn
	}
	se := webrtc.SettingEngine{LoggerFactory: lf}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(append(opts, webrtc.WithSettingEngine(se))...).NewPeerConnection(webrtc.Configuration{})
}

// local applies a local description and returns it once gathering is complete (no trickle).
func local(pc *webrtc.PeerConnection, d webrtc.SessionDescription) (string, error) {
	g := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(d); err != nil {
		return "", err
	}
	<-g
	return pc.LocalDescription().SDP, nil
}

func newSession(id string) (*session, error) {
	pc, err := newPC()
	if err != nil {
		return nil, err
	}
	s := &session{id: id, pc: pc, t0: time.Now(), done: make(chan struct{})}
	s.st.Impl = "pion"
	s.st.Version = pionVersion
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		s.ev("pc " + st.String())
		if st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateClosed {
			s.finish()
		}
	})
	pc.OnDataChannel(s.wire)
	return s, nil
}

func (s *session) wire(dc *webrtc.DataChannel) {
	s.mu.Lock()
	s.st.Label = dc.Label()
	s.mu.Unlock()
	dc.OnOpen(func() { s.ev("dc open " + dc.Label()); _ = dc.SendText("echo-me:hello-from-pion") })
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		if m.IsString && strings.HasPrefix(string(m.Data), "echo-reply:") {
			s.mu.Lock()
			s.st.EchoMeReplied = true
			s.mu.Unlock()
			return
		}
		if m.IsString && string(m.Data) == "cmd:close" {
			s.ev("cmd:close")
			_ = dc.Close()
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if m.IsString {
			_ = dc.SendText(string(m.Data))
			s.st.Echoed++
		} else {
			_ = dc.Send(m.Data)
			s.st.EchoedBinary++
		}
	})
	dc.OnClose(func() {
		s.ev("dc close")
		// Closed by a stream reset (RFC 8831 §6.7), not with the connection: it is still up a moment later.
		time.AfterFunc(250*time.Millisecond, func() {
			if s.pc.ConnectionState() == webrtc.PeerConnectionStateConnected {
				s.mu.Lock()
				s.st.ChannelsClosed++
				s.mu.Unlock()
			}
			time.AfterFunc(250*time.Millisecond, s.finish)
		})
	})
}

// pionVersion: the Debian package's version, set at build time (-ldflags -X main.pionVersion=...).
var pionVersion = "3.x"

func main() {
	port := flag.Int("port", 0, "server: TCP port on 127.0.0.1 (0 = any free port)")
	once := flag.Bool("once", false, "server: exit after the first session")
	lifetime := flag.Duration("lifetime", 300*time.Second, "server: exit after this long regardless")
	sessTimeout := flag.Duration("session-timeout", 60*time.Second, "server: end a session after this long")
	var d dialOpts
	flag.StringVar(&d.url, "dial", "", "dialer: dial this signaling URL instead of serving one")
	flag.StringVar(&d.mode, "mode", "offer", "dialer: offer (we offer, we create the channel) or answer (we request an offer)")
	flag.IntVar(&d.messages, "messages", 10, "dialer: text (and binary) messages to echo")
	flag.IntVar(&d.size, "size", 0, "dialer: payload bytes (binary: max(size,16))")
	flag.StringVar(&d.sizes, "sizes", "", "dialer: exact payload sizes used in turn, e.g. 0,262144 (overrides -size)")
	flag.BoolVar(&d.binary, "binary", false, "dialer: also send binary messages")
	flag.BoolVar(&d.unordered, "unordered", false, "dialer: the channel we create is unordered (offer mode)")
	flag.IntVar(&d.maxRetransmits, "max-retransmits", -1, "dialer: the channel we create has maxRetransmits N (offer mode)")
	flag.StringVar(&d.closeFrom, "close-from", "", "dialer: after the echoes close the channel: us, or peer (cmd:close)")
	timeout := flag.Int("timeout", 20, "dialer: limit of each wait, in seconds")
	flag.StringVar(&d.label, "label", "echo", "dialer: data channel label")
	var m mediaOpts
	mediaDial := flag.Bool("media", false, "dialer: VP8 + Opus to a server that reflects them (media.go) instead of the channel checks")
	flag.StringVar(&m.ivf, "ivf", "", "media dialer: VP8 IVF to send (default: made by ffmpeg)")
	flag.StringVar(&m.ogg, "ogg", "", "media dialer: Opus Ogg to send, one packet a page (default: made by ffmpeg)")
	window := flag.Float64("window", 5, "media dialer: seconds measured once the first frame came back")
	flag.StringVar(&m.codec, "codec", "VP8", "media dialer: the video codec (only VP8 here)")
	flag.BoolVar(&m.keep, "keep", false, "media dialer: keep the temporary directory (files sent and received)")
	flag.BoolVar(&m.expectRepair, "expect-repair", false, "media dialer: the server's packets are being dropped; check every lost video packet is sent again on NACK")
	flag.Parse()
	if d.url == "" && flag.NArg() == 1 && strings.HasPrefix(flag.Arg(0), "http") {
		d.url = flag.Arg(0) // `pion-peer [flags] -dial URL` is the usual form; a bare URL works too
	}
	d.timeout = time.Duration(*timeout) * time.Second
	if d.url != "" && *mediaDial {
		m.url, m.mode, m.timeout = d.url, d.mode, d.timeout
		m.window = time.Duration(*window * float64(time.Second))
		os.Exit(runMediaDial(m))
	}
	if d.url != "" {
		os.Exit(runDial(d))
	}
	os.Exit(serve(*port, *once, *lifetime, *sessTimeout))
}

func serve(port int, once bool, lifetime, sessTimeout time.Duration) int {
	var mu sync.Mutex
	sessions := map[string]*session{}
	results := make(chan bool, 16)
	n := 0
	run := func(s *session) {
		select {
		case <-s.done:
		case <-time.After(sessTimeout):
			s.ev("session timeout")
		}
		_ = s.pc.Close()
		mu.Lock()
		delete(sessions, s.id)
		mu.Unlock()
		s.mu.Lock()
		s.st.OK = s.st.Echoed+s.st.EchoedBinary > 0
		b, _ := json.Marshal(s.st)
		ok := s.st.OK
		s.mu.Unlock()
		fmt.Println("SESSION " + string(b))
		results <- ok
	}
	reply := func(w http.ResponseWriter, code int, v interface{}) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			reply(w, 405, map[string]string{"error": "POST a JSON message"})
			return
		}
		var m msg
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&m); err != nil {
			reply(w, 400, map[string]string{"error": err.Error()})
			return
		}
		fail := func(err error) { reply(w, 500, map[string]string{"error": err.Error()}) }
		switch m.Type {
		case "offer", "request-offer":
			mu.Lock()
			n++
			id := fmt.Sprintf("pion-%d", n)
			mu.Unlock()
			s, err := newSession(id)
			if err != nil {
				fail(err)
				return
			}
			mu.Lock()
			sessions[id] = s
			mu.Unlock()
			if m.Type == "offer" {
				if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: loopbackOnly(m.SDP)}); err != nil {
					fail(err)
					return
				}
				ans, err := s.pc.CreateAnswer(nil)
				if err != nil {
					fail(err)
					return
				}
				sdp, err := local(s.pc, ans)
				if err != nil {
					fail(err)
					return
				}
				go run(s)
				reply(w, 200, msg{Type: "answer", SDP: loopbackOnly(sdp), Session: id})
				return
			}
			label := m.Label
			if label == "" {
				label = "echo"
			}
			dc, err := s.pc.CreateDataChannel(label, nil)
			if err != nil {
				fail(err)
				return
			}
			s.wire(dc)
			off, err := s.pc.CreateOffer(nil)
			if err != nil {
				fail(err)
				return
			}
			sdp, err := local(s.pc, off)
			if err != nil {
				fail(err)
				return
			}
			reply(w, 200, msg{Type: "offer", SDP: loopbackOnly(sdp), Session: id})
		case "answer":
			mu.Lock()
			s := sessions[m.Session]
			mu.Unlock()
			if s == nil {
				reply(w, 404, map[string]string{"error": "unknown session " + m.Session})
				return
			}
			if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: loopbackOnly(m.SDP)}); err != nil {
				fail(err)
				return
			}
			go run(s)
			reply(w, 200, struct{}{})
		default:
			reply(w, 400, map[string]string{"error": "unknown type " + m.Type + ": send offer, request-offer or answer"})
		}
	})
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("LISTENING http://%s/offer\n", ln.Addr().String())
	go func() { _ = http.Serve(ln, nil) }()
	deadline := time.After(lifetime)
	allOK, count := true, 0
	for {
		select {
		case ok := <-results:
			count++
			allOK = allOK && ok
			if once {
				if ok {
					return 0
				}
				return 1
			}
		case <-deadline:
			if count > 0 && allOK && !once {
				return 0
			}
			return 1
		}
	}
}
