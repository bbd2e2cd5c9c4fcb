// Media dialer: `pion-peer --media [--mode offer|answer] [--ivf F --ogg F] [--window 5] [--keep] URL` dials a
// server that reflects audio and video back on the same sections (`oxirtc echo`), with VP8 + Opus.
//
// --mode offer: Pion offers a VP8 video and an Opus audio track (sendrecv) plus channel "echo".
// --mode answer: Pion POSTs {"type":"request-offer","media":true,"videoCodec":"VP8"}, the server offers
// audio + video + channel "echo", and Pion answers with its tracks on the offered sections (AddTrack
// takes the recvonly transceivers SetRemoteDescription made).
//
// What Pion sends: the frames of an IVF (VP8) and the pages of an Ogg (Opus, one 20 ms packet a page)
// with TrackLocalStaticSample.WriteSample, in a loop, at their own pace. Without --ivf/--ogg they are
// made by ffmpeg into a temporary directory (4 s of testsrc2 at 320x240/30 fps, keyframe every 30
// frames; a tone rising from 300 Hz). What comes back (TrackRemote.ReadRTP) goes through a samplebuilder (VP8) or
// is taken a packet at a time (Opus); every frame is compared byte for byte with the frames sent, and
// written to an IVF / Ogg that ffprobe decodes at the end (libvpx, libopus) to count decodable frames.
// After the first frame came back, a window of --window seconds is measured, then sending stops and
// 1 s is left for the rest to arrive.
//
// Prints one JSON object; exit 0 only if every check passed:
//
//	videoReceived90Percent  of the frames sent in the window, >= 90 % came back byte-identical
//	videoInOrder            they come back in the order sent (file positions, looping)
//	videoDecoded            ffprobe decodes >= 90 % of the frames that came back
//	keyframeRequested       a PLI or FIR arrived from the server (oxirtc echo sends one once video flows)
//	keyframeRequestPassedOn halfway through Pion sends a PLI for the video coming back; the server passes
//	                        it on to Pion's sender: another PLI arrives
//	codecsAsked             video/VP8 and audio/opus both ways
//	audioReceived90Percent  the same for the Opus packets, and ffprobe decodes >= 90 % of them
//	dataChannelEcho         10 text messages on channel "echo" come back in order
//	lossRepaired            (--expect-repair, when the cell drops the server's packets) no video sequence
//	                        number is missing at the end: Pion's NACKs got every lost packet sent again
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v3"
	"github.com/pion/webrtc/v3/pkg/media"
	"github.com/pion/webrtc/v3/pkg/media/ivfreader"
	"github.com/pion/webrtc/v3/pkg/media/oggreader"
	"github.com/pion/webrtc/v3/pkg/media/oggwriter"
	"github.com/pion/webrtc/v3/pkg/media/samplebuilder"
)

type mediaOpts struct {
	url, mode, ivf, ogg, codec string
	window, timeout            time.Duration
	keep, expectRepair         bool
}

// frameSource is a file's frames (or Opus packets) with their durations, sent in a loop.
type frameSource struct {
	frames    [][]byte
	durations []time.Duration
	index     map[[32]byte]int // hash -> position in the file
}

func (f *frameSource) add(b []byte, d time.Duration) {
	if f.index == nil {
		f.index = map[[32]byte]int{}
	}
	f.frames = append(f.frames, b)
	f.durations = append(f.durations, d)
	h := sha256.Sum256(b)
	if _, dup := f.index[h]; !dup {
		f.index[h] = len(f.frames) - 1
	}
}

func readIVF(path string) (*frameSource, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	r, hdr, err := ivfreader.NewWith(fh)
	if err != nil {
		return nil, err
	}
	if hdr.TimebaseDenominator == 0 || hdr.TimebaseNumerator == 0 {
		return nil, fmt.Errorf("%s: no time base", path)
	}
	d := time.Duration(float64(time.Second) * float64(hdr.TimebaseNumerator) / float64(hdr.TimebaseDenominator))
	src := &frameSource{}
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		src.add(frame, d)
	}
	if len(src.frames) == 0 {
		return nil, fmt.Errorf("%s has no frames", path)
	}
	return src, nil
}

func readOgg(path string) (*frameSource, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	r, _, err := oggreader.NewWith(fh)
	if err != nil {
		return nil, err
	}
	src := &frameSource{}
	var last uint64
	for {
		page, hdr, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if bytes.HasPrefix(page, []byte("OpusTags")) {
			continue
		}
		// Granule positions count 48 kHz samples.
		d := time.Duration(hdr.GranulePosition-last) * time.Second / 48000
		last = hdr.GranulePosition
		if d <= 0 || d > 120*time.Millisecond {
			d = 20 * time.Millisecond
		}
		src.add(page, d)
	}
	if len(src.frames) == 0 {
		return nil, fmt.Errorf("%s has no pages", path)
	}
	return src, nil
}

// makeMedia writes a 4 s VP8 IVF and Opus Ogg with ffmpeg into dir.
func makeMedia(dir string) (ivf, ogg string, err error) {
	ivf, ogg = filepath.Join(dir, "video.ivf"), filepath.Join(dir, "audio.ogg")
	cmds := [][]string{
		{"ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "4",
			"-c:v", "libvpx", "-b:v", "400k", "-g", "30", "-keyint_min", "30", "-auto-alt-ref", "0",
			"-lag-in-frames", "0", "-deadline", "realtime", "-cpu-used", "8", "-f", "ivf", ivf},
		// A rising tone: a steady one makes the same Opus packet every 20 ms, and packets are told apart
		// by their bytes.
		{"ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "aevalsrc=0.25*sin(2*PI*(300+40*t)*t):s=48000", "-t", "4",
			"-c:a", "libopus", "-b:a", "48k", "-page_duration", "20000", "-f", "ogg", ogg},
	}
	for _, c := range cmds {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("%s: %v: %s", strings.Join(c, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return ivf, ogg, nil
}

// newMediaPC: newPC's loopback settings, with VP8 + Opus only and Pion's default interceptors (NACK,
// RTCP reports, TWCC).
func newMediaPC() (*webrtc.PeerConnection, error) {
	m := &webrtc.MediaEngine{}
	// RegisterDefaultInterceptors adds nack, nack pli and transport-cc to what is registered here (listing
	// them here too repeats each a=rtcp-fb line in the SDP).
	fb := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb},
		PayloadType:        96,
	}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType: 111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	// First in the chain: the NACK generator writes through the writer the earlier ones wrapped.
	reg.Add(nackCounter)
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		return nil, err
	}
	return newPCWith(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg))
}

// sender sends a frameSource on a track in a loop until stopped.
type sender struct {
	src     *frameSource
	track   *webrtc.TrackLocalStaticSample
	sent    int64 // frames written
	errs    int64
	stopped int32
}

func (s *sender) run() {
	next := time.Now()
	for i := 0; atomic.LoadInt32(&s.stopped) == 0; i++ {
		k := i % len(s.src.frames)
		if err := s.track.WriteSample(media.Sample{Data: s.src.frames[k], Duration: s.src.durations[k]}); err != nil {
			atomic.AddInt64(&s.errs, 1)
		}
		atomic.AddInt64(&s.sent, 1)
		next = next.Add(s.src.durations[k])
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
	}
}

// receiver counts what comes back on one remote track.
type receiver struct {
	mu        sync.Mutex
	src       *frameSource
	kind      string
	mime      string
	packets   int
	seqFirst  uint16 // first sequence number, and how far the highest one is past it (unwrapped)
	seqSpan   int
	seqSeen   map[uint16]bool
	frames    int // samples built (video) or packets (audio)
	intact    int // byte-identical to a frame of src
	backwards int // intact frames whose position is not after the previous one (modulo the loop)
	lastPos   int
	sentIndex []int // of each intact frame: which frame sent it was (positions unwrapped over the loops)
	first     chan struct{}
	firstOnce sync.Once
	ivf       *bytes.Buffer // video frames as they came back, for ffprobe
	ivfFrames uint32
	ogg       *oggwriter.OggWriter
	oggFile   string
}

func (r *receiver) frame(b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames++
	if pos, ok := r.src.index[sha256.Sum256(b)]; ok {
		next := pos
		if n := len(r.src.frames); r.intact > 0 {
			last := r.sentIndex[len(r.sentIndex)-1]
			if d := (pos - r.lastPos + n) % n; d == 0 || d > n/2 {
				r.backwards++
				next = last
			} else {
				next = last + d
			}
		}
		r.sentIndex = append(r.sentIndex, next)
		r.intact++
		r.lastPos = pos
	}
	if r.ivf != nil {
		var h [12]byte
		binary.LittleEndian.PutUint32(h[0:], uint32(len(b)))
		binary.LittleEndian.PutUint64(h[4:], uint64(r.ivfFrames))
		r.ivf.Write(h[:])
		r.ivf.Write(b)
		r.ivfFrames++
	}
	r.firstOnce.Do(func() { close(r.first) })
}

func (r *receiver) counts() (frames, intact int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.frames, r.intact
}

// missing: sequence numbers between the first and the highest that never came (r.mu held).
func (r *receiver) missing() int {
	if r.packets == 0 {
		return 0
	}
	return r.seqSpan + 1 - len(r.seqSeen)
}

// backOf counts the frames sent as number from..to-1 that came back intact.
func (r *receiver) backOf(from, to int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[int]bool{}
	for _, i := range r.sentIndex {
		if i >= from && i < to {
			seen[i] = true
		}
	}
	return len(seen)
}

func (r *receiver) run(track *webrtc.TrackRemote) {
	var sb *samplebuilder.SampleBuilder
	if r.kind == "video" {
		sb = samplebuilder.New(128, &codecs.VP8Packet{}, 90000)
	}
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		r.mu.Lock()
		if r.packets == 0 {
			r.seqFirst, r.seqSeen = pkt.SequenceNumber, map[uint16]bool{}
		}
		r.seqSeen[pkt.SequenceNumber] = true
		if d := int(pkt.SequenceNumber - r.seqFirst); d > r.seqSpan && d < 1<<15 {
			r.seqSpan = d
		}
		r.packets++
		if r.ogg != nil {
			_ = r.ogg.WriteRTP(pkt)
		}
		r.mu.Unlock()
		if sb == nil {
			r.frame(pkt.Payload)
			continue
		}
		sb.Push(pkt)
		for s := sb.Pop(); s != nil; s = sb.Pop() {
			r.frame(s.Data)
		}
	}
}

// ivfFile is the IVF of the frames that came back (VP8, 320x240 as sent; ffprobe reads the size from
// the bitstream).
func (r *receiver) ivfFile(path string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var h [32]byte
	copy(h[0:], "DKIF")
	binary.LittleEndian.PutUint16(h[6:], 32)
	copy(h[8:], "VP80")
	binary.LittleEndian.PutUint16(h[12:], 320)
	binary.LittleEndian.PutUint16(h[14:], 240)
	binary.LittleEndian.PutUint32(h[16:], 30)
	binary.LittleEndian.PutUint32(h[20:], 1)
	binary.LittleEndian.PutUint32(h[24:], r.ivfFrames)
	return os.WriteFile(path, append(h[:], r.ivf.Bytes()...), 0o600)
}

// decodedFrames runs ffprobe over a file: the frames it decoded, and its error lines.
func decodedFrames(path string) (int, []string, error) {
	cmd := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "0",
		"-show_entries", "stream=nb_read_frames", "-of", "default=nw=1:nk=1", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var errs []string
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if l != "" && len(errs) < 5 {
			errs = append(errs, l)
		}
	}
	if err != nil {
		return 0, errs, fmt.Errorf("ffprobe %s: %v", path, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	return n, errs, err
}

func runMediaDial(o mediaOpts) int {
	t0 := time.Now()
	res := map[string]interface{}{"ok": false, "impl": "pion", "version": pionVersion, "mode": o.mode,
		"codec": "VP8", "signal": o.url}
	checks := map[string]bool{}
	var events []string
	var evMu sync.Mutex
	ev := func(e string) {
		evMu.Lock()
		defer evMu.Unlock()
		events = append(events, fmt.Sprintf("%dms %s", time.Since(t0).Milliseconds(), e))
	}
	finish := func(err error) int {
		if err != nil {
			res["error"] = err.Error()
		}
		ok := err == nil && len(checks) > 0
		for _, v := range checks {
			ok = ok && v
		}
		res["ok"], res["checks"] = ok, checks
		evMu.Lock()
		res["events"] = events
		evMu.Unlock()
		res["totalMs"] = time.Since(t0).Milliseconds()
		b, _ := json.MarshalIndent(res, "", " ")
		fmt.Println(string(b))
		if ok {
			return 0
		}
		return 1
	}

	u, err := url.Parse(o.url)
	if err != nil {
		return finish(err)
	}
	if !regexp.MustCompile(`^(127\.\d+\.\d+\.\d+|::1|localhost)$`).MatchString(u.Hostname()) {
		return finish(fmt.Errorf("refusing non-loopback signaling host %s", u.Hostname()))
	}
	if o.mode != "offer" && o.mode != "answer" {
		return finish(fmt.Errorf("--mode must be offer or answer"))
	}
	if !strings.EqualFold(o.codec, "VP8") {
		return finish(fmt.Errorf("--codec %s: the Pion media dialer sends VP8 only (from an IVF)", o.codec))
	}
	dir, err := os.MkdirTemp("", "pion-media-")
	if err != nil {
		return finish(err)
	}
	if o.keep {
		res["dir"] = dir
	} else {
		defer os.RemoveAll(dir)
	}
	if o.ivf == "" || o.ogg == "" {
		if o.ivf, o.ogg, err = makeMedia(dir); err != nil {
			return finish(err)
		}
	}
	video, err := readIVF(o.ivf)
	if err != nil {
		return finish(err)
	}
	audio, err := readOgg(o.ogg)
	if err != nil {
		return finish(err)
	}
	res["files"] = map[string]interface{}{"ivf": o.ivf, "ivfFrames": len(video.frames), "ogg": o.ogg, "oggPackets": len(audio.frames)}

	pc, err := newMediaPC()
	if err != nil {
		return finish(err)
	}
	defer pc.Close()
	connected := make(chan bool, 1)
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		ev("pc " + st.String())
		switch st {
		case webrtc.PeerConnectionStateConnected:
			select {
			case connected <- true:
			default:
			}
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			select {
			case connected <- false:
			default:
			}
		}
	})
	vtrack, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "pion")
	if err != nil {
		return finish(err)
	}
	atrack, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "pion")
	if err != nil {
		return finish(err)
	}
	vs, as := &sender{src: video, track: vtrack}, &sender{src: audio, track: atrack}
	recv := map[string]*receiver{
		"video": {src: video, kind: "video", first: make(chan struct{}), ivf: &bytes.Buffer{}},
		"audio": {src: audio, kind: "audio", first: make(chan struct{}), oggFile: filepath.Join(dir, "back.ogg")},
	}
	if recv["audio"].ogg, err = oggwriter.New(recv["audio"].oggFile, 48000, 2); err != nil {
		return finish(err)
	}
	var remoteTracks int32
	var videoSSRC uint32
	rtcpSeen := &rtcpCount{seen: map[string]int{}}
	pc.OnTrack(func(t *webrtc.TrackRemote, rr *webrtc.RTPReceiver) {
		go func() {
			for {
				pkts, _, err := rr.ReadRTCP()
				if err != nil {
					return
				}
				for _, p := range pkts {
					rtcpSeen.add("receiver", p)
				}
			}
		}()
		kind := t.Kind().String()
		ev("track " + kind + " " + t.Codec().MimeType)
		r := recv[kind]
		if r == nil {
			return
		}
		atomic.AddInt32(&remoteTracks, 1)
		if kind == "video" {
			atomic.StoreUint32(&videoSSRC, uint32(t.SSRC()))
		}
		r.mime = t.Codec().MimeType
		go r.run(t)
	})
	texts, _ := messages(10, 20, nil, false)
	check := newEchoCheck(texts, nil, true, false)
	var dcMu sync.Mutex
	dcDone := make(chan struct{})
	var dcOnce sync.Once
	wire := func(dc *webrtc.DataChannel) {
		dc.OnOpen(func() {
			ev("dc open " + dc.Label())
			for _, t := range texts {
				_ = dc.SendText(t)
			}
		})
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			if m.IsString && strings.HasPrefix(string(m.Data), "echo-me:") {
				_ = dc.SendText("echo-reply:" + string(m.Data)[8:])
				return
			}
			dcMu.Lock()
			check.add(m.IsString, m.Data)
			if check.complete() {
				dcOnce.Do(func() { close(dcDone) })
			}
			dcMu.Unlock()
		})
	}
	pc.OnDataChannel(wire)

	var senders []*webrtc.RTPSender
	addTracks := func() error {
		for _, t := range []webrtc.TrackLocal{atrack, vtrack} {
			s, err := pc.AddTrack(t)
			if err != nil {
				return err
			}
			senders = append(senders, s)
		}
		return nil
	}
	var localSDP, remoteSDP string
	err = func() error {
		if o.mode == "offer" {
			if err := addTracks(); err != nil {
				return err
			}
			dc, err := pc.CreateDataChannel("echo", nil)
			if err != nil {
				return err
			}
			wire(dc)
			off, err := pc.CreateOffer(nil)
			if err != nil {
				return err
			}
			if localSDP, err = local(pc, off); err != nil {
				return err
			}
			localSDP = loopbackOnly(localSDP)
			ans, err := postJSON(o.url, map[string]interface{}{"type": "offer", "sdp": localSDP, "label": "echo"})
			if err != nil {
				return err
			}
			remoteSDP, _ = ans["sdp"].(string)
			if ans["type"] != "answer" || remoteSDP == "" {
				return fmt.Errorf("the server's reply is not {type:\"answer\",sdp}")
			}
			return pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: loopbackOnly(remoteSDP)})
		}
		off, err := postJSON(o.url, map[string]interface{}{"type": "request-offer", "label": "echo", "media": true, "videoCodec": "VP8"})
		if err != nil {
			return err
		}
		remoteSDP, _ = off["sdp"].(string)
		if off["type"] != "offer" || remoteSDP == "" {
			return fmt.Errorf("the server's reply is not {type:\"offer\",sdp}")
		}
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: loopbackOnly(remoteSDP)}); err != nil {
			return err
		}
		if err := addTracks(); err != nil {
			return err
		}
		ans, err := pc.CreateAnswer(nil)
		if err != nil {
			return err
		}
		if localSDP, err = local(pc, ans); err != nil {
			return err
		}
		localSDP = loopbackOnly(localSDP)
		_, err = postJSON(o.url, map[string]interface{}{"type": "answer", "sdp": localSDP, "session": off["session"]})
		return err
	}()
	if err != nil {
		return finish(err)
	}
	res["signalingMs"] = time.Since(t0).Milliseconds()
	res["localSections"], res["remoteSections"] = sdpSections(localSDP), sdpSections(remoteSDP)
	if os.Getenv("MEDIA_DIAL_SDP") != "" {
		res["localSdp"], res["remoteSdp"] = localSDP, remoteSDP
	}

	// PLI/FIR from the server, and the codec each sender uses.
	var plis, firs int64
	var sendCodecs []string
	for _, s := range senders {
		if p := s.GetParameters(); len(p.Codecs) > 0 {
			sendCodecs = append(sendCodecs, p.Codecs[0].MimeType)
		}
		go func(s *webrtc.RTPSender) {
			for {
				pkts, _, err := s.ReadRTCP()
				if err != nil {
					return
				}
				for _, p := range pkts {
					switch p.(type) {
					case *rtcp.PictureLossIndication:
						atomic.AddInt64(&plis, 1)
					case *rtcp.FullIntraRequest:
						atomic.AddInt64(&firs, 1)
					}
					rtcpSeen.add("sender", p)
				}
			}
		}(s)
	}

	select {
	case ok := <-connected:
		if !ok {
			return finish(fmt.Errorf("the connection failed (%s)", pc.ConnectionState()))
		}
	case <-time.After(o.timeout):
		return finish(fmt.Errorf("not connected within %s (%s)", o.timeout, pc.ConnectionState()))
	}
	go vs.run()
	go as.run()
	select {
	case <-recv["video"].first:
	case <-time.After(o.timeout):
		atomic.StoreInt32(&vs.stopped, 1)
		atomic.StoreInt32(&as.stopped, 1)
		return finish(fmt.Errorf("no video frame came back within %s of connecting (remote tracks %d)", o.timeout, atomic.LoadInt32(&remoteTracks)))
	}
	ev("first frame back")
	res["firstFrameMs"] = time.Since(t0).Milliseconds()
	type snap struct{ vSent, aSent, vFrames, vIntact, aFrames, aIntact int }
	take := func() snap {
		s := snap{vSent: int(atomic.LoadInt64(&vs.sent)), aSent: int(atomic.LoadInt64(&as.sent))}
		s.vFrames, s.vIntact = recv["video"].counts()
		s.aFrames, s.aIntact = recv["audio"].counts()
		return s
	}
	before := take()
	// Halfway through, a PLI of ours for the server's video: oxirtc echo passes it on to the sender of
	// what it reflects (us).
	time.Sleep(o.window / 2)
	pliBefore := atomic.LoadInt64(&plis) + atomic.LoadInt64(&firs)
	if ssrc := atomic.LoadUint32(&videoSSRC); ssrc != 0 {
		if err := pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
			ev("PLI not sent: " + err.Error())
		} else {
			ev(fmt.Sprintf("PLI sent for ssrc %d", ssrc))
		}
	}
	time.Sleep(o.window / 2)
	atomic.StoreInt32(&vs.stopped, 1)
	atomic.StoreInt32(&as.stopped, 1)
	sent := take()
	ev("sending stopped")
	time.Sleep(time.Second)
	after := take()
	select {
	case <-dcDone:
	case <-time.After(2 * time.Second):
	}
	ev("window done")

	// Of the frames sent in the window, those that came back intact (whenever they came).
	w := map[string]interface{}{"seconds": o.window.Seconds(),
		"videoSent": sent.vSent - before.vSent, "videoReceived": after.vFrames - before.vFrames,
		"videoIntact": recv["video"].backOf(before.vSent, sent.vSent),
		"audioSent":   sent.aSent - before.aSent, "audioReceived": after.aFrames - before.aFrames,
		"audioIntact": recv["audio"].backOf(before.aSent, sent.aSent)}
	res["window"] = w
	v, a := recv["video"], recv["audio"]
	vpath := filepath.Join(dir, "back.ivf")
	if err := v.ivfFile(vpath); err != nil {
		return finish(err)
	}
	a.mu.Lock()
	_ = a.ogg.Close()
	a.mu.Unlock()
	vDecoded, vErrs, vErr := decodedFrames(vpath)
	aDecoded, aErrs, aErr := decodedFrames(a.oggFile)
	v.mu.Lock()
	res["video"] = map[string]interface{}{"framesSent": atomic.LoadInt64(&vs.sent), "writeErrors": atomic.LoadInt64(&vs.errs),
		"packetsReceived": v.packets, "packetsMissing": v.missing(), "framesReceived": v.frames, "framesIntact": v.intact, "backwards": v.backwards,
		"framesDecoded": vDecoded, "decodeErrors": vErrs, "codec": v.mime, "pliReceived": atomic.LoadInt64(&plis),
		"firReceived": atomic.LoadInt64(&firs)}
	vFrames, vBackwards, vMissing := v.frames, v.backwards, v.missing()
	v.mu.Unlock()
	a.mu.Lock()
	res["audio"] = map[string]interface{}{"framesSent": atomic.LoadInt64(&as.sent), "writeErrors": atomic.LoadInt64(&as.errs),
		"packetsReceived": a.packets, "packetsMissing": a.missing(), "framesIntact": a.intact, "framesDecoded": aDecoded, "decodeErrors": aErrs, "codec": a.mime}
	aPackets := a.packets
	a.mu.Unlock()
	res["summary"] = map[string]interface{}{"codec": v.mime, "audioCodec": a.mime,
		"videoSent": atomic.LoadInt64(&vs.sent), "videoReceived": vFrames, "videoDecoded": vDecoded,
		"audioSent": atomic.LoadInt64(&as.sent), "audioReceived": aPackets, "audioDecoded": aDecoded,
		"windowVideoSent": w["videoSent"], "windowVideoBack": w["videoIntact"],
		"windowAudioSent": w["audioSent"], "windowAudioBack": w["audioIntact"]}
	res["sendCodecs"] = sendCodecs
	rtcpSeen.mu.Lock()
	res["rtcpFromServer"] = rtcpSeen.seen
	rtcpSeen.mu.Unlock()
	res["nacksSent"] = map[string]int64{"packets": atomic.LoadInt64(&nackCounter.nacks), "sequenceNumbers": atomic.LoadInt64(&nackCounter.named)}
	if vErr != nil || aErr != nil {
		res["ffprobeError"] = fmt.Sprint(vErr, aErr)
	}
	dcMu.Lock()
	res["dc"] = map[string]interface{}{"sent": len(texts), "echoed": check.echoed, "mismatched": check.mismatch}
	checks["dataChannelEcho"] = check.passed()
	dcMu.Unlock()
	pct := func(part, whole int) bool { return whole > 0 && part*10 >= whole*9 }
	checks["videoReceived90Percent"] = pct(w["videoIntact"].(int), w["videoSent"].(int))
	checks["videoInOrder"] = vBackwards == 0 && vFrames > 0
	checks["videoDecoded"] = vErr == nil && pct(vDecoded, vFrames)
	checks["keyframeRequested"] = pliBefore > 0
	checks["keyframeRequestPassedOn"] = atomic.LoadInt64(&plis)+atomic.LoadInt64(&firs) > pliBefore
	checks["codecsAsked"] = strings.EqualFold(v.mime, webrtc.MimeTypeVP8) && strings.EqualFold(a.mime, webrtc.MimeTypeOpus) &&
		len(sendCodecs) == 2 && strings.EqualFold(sendCodecs[0], webrtc.MimeTypeOpus) && strings.EqualFold(sendCodecs[1], webrtc.MimeTypeVP8)
	if o.expectRepair {
		// Pion NACKs what is missing (RFC 4585 §6.2.1, its nack interceptor); a sender that answers
		// NACKs has sent every lost video packet again within the second after sending stopped.
		checks["lossRepaired"] = vMissing == 0
	}
	checks["audioReceived90Percent"] = pct(w["audioIntact"].(int), w["audioSent"].(int)) && aErr == nil && pct(aDecoded, aPackets)
	res["connectionState"] = pc.ConnectionState().String()
	_ = pc.Close()
	return finish(nil)
}

// nackCounter counts the Generic NACKs Pion sends (its NACK generator) and the packets they name.
var nackCounter = &nackCount{}

type nackCount struct {
	interceptor.NoOp
	nacks, named int64
}

func (n *nackCount) NewInterceptor(string) (interceptor.Interceptor, error) { return n, nil }

func (n *nackCount) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	return interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, a interceptor.Attributes) (int, error) {
		for _, p := range pkts {
			if nack, ok := p.(*rtcp.TransportLayerNack); ok {
				atomic.AddInt64(&n.nacks, 1)
				for _, pair := range nack.Nacks {
					atomic.AddInt64(&n.named, int64(len(pair.PacketList())))
				}
			}
		}
		return w.Write(pkts, a)
	})
}

// rtcpCount counts the RTCP packets read from our senders (reports on what we send, PLI, FIR) and
// receivers (sender reports of what we receive), by side and type.
type rtcpCount struct {
	mu   sync.Mutex
	seen map[string]int
}

func (c *rtcpCount) add(side string, p rtcp.Packet) {
	name := fmt.Sprintf("%T", p)
	name = name[strings.LastIndex(name, ".")+1:]
	if rr, ok := p.(*rtcp.ReceiverReport); ok && len(rr.Reports) == 0 {
		name += "(empty)"
	}
	c.mu.Lock()
	c.seen[side+" "+name]++
	c.mu.Unlock()
}

// sdpSections: kind, port, direction and codecs of each audio/video section.
func sdpSections(sdp string) []map[string]interface{} {
	var out []map[string]interface{}
	parts := regexp.MustCompile(`(?m)^m=`).Split(sdp, -1)
	for _, p := range parts[1:] {
		f := strings.Fields(p)
		if len(f) < 2 || (f[0] != "audio" && f[0] != "video") {
			continue
		}
		port, _ := strconv.Atoi(f[1])
		dir := ""
		if m := regexp.MustCompile(`(?m)^a=(sendrecv|sendonly|recvonly|inactive)`).FindStringSubmatch(p); m != nil {
			dir = m[1]
		}
		var codecNames []string
		for _, m := range regexp.MustCompile(`(?m)^a=rtpmap:\d+ ([^/\r\n]+)`).FindAllStringSubmatch(p, -1) {
			codecNames = append(codecNames, m[1])
		}
		out = append(out, map[string]interface{}{"kind": f[0], "port": port, "direction": dir, "codecs": codecNames})
	}
	return out
}
