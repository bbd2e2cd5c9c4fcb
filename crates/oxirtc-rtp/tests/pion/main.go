// Command main writes ../fixtures/pion.txt: RTP and RTCP packets marshalled by Pion (pion/rtp,
// pion/rtcp, and pion/interceptor's transport-cc recorder), for oxirtc-rtp's cross-check test
// (tests/pion_fixtures.rs), which needs no Go to run.
//
// Made with Debian's golang-github-pion-{rtp,rtcp,interceptor}-dev (GOPATH layout under
// /usr/share/gocode, no module proxy), from this directory:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=/tmp/gocache go run main.go > ../fixtures/pion.txt
//
// Each line is a name and the packet in hex. The values are fixed here and repeated in the Rust
// test, which parses each packet to those values and writes them back. Nothing is random, so a
// rerun gives the same file.
package main

import (
	"encoding/hex"
	"fmt"
	"os"

	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

func emit(name string, b []byte, err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, name, err)
		os.Exit(1)
	}
	fmt.Printf("%s %s\n", name, hex.EncodeToString(b))
}

func rtpPackets() {
	payload := []byte{0xde, 0xad, 0xbe, 0xef, 0x01}
	plain := rtp.Packet{Header: rtp.Header{Version: 2, Marker: true, PayloadType: 111,
		SequenceNumber: 65535, Timestamp: 0x01020304, SSRC: 0x11223344}, Payload: payload}
	b, err := plain.Marshal()
	emit("rtp_plain", b, err)

	// CSRCs and one-byte extensions: abs-send-time (id 1), transport-cc (id 3), audio level (id 5).
	one := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 1000,
		Timestamp: 90000, SSRC: 0xcafebabe, CSRC: []uint32{7, 8}}, Payload: payload}
	must(one.SetExtension(1, []byte{0x06, 0x00, 0x00}))
	must(one.SetExtension(3, []byte{0x12, 0x34}))
	must(one.SetExtension(5, []byte{0xaa}))
	b, err = one.Marshal()
	emit("rtp_one_byte_ext", b, err)

	// Two-byte extensions: id 20 with 20 bytes, id 2 with "mid0".
	long := make([]byte, 20)
	for i := range long {
		long[i] = byte(i)
	}
	two := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 97, SequenceNumber: 2,
		Timestamp: 3, SSRC: 4, Extension: true, ExtensionProfile: 0x1000}, Payload: payload}
	must(two.SetExtension(20, long))
	must(two.SetExtension(2, []byte("mid0")))
	b, err = two.Marshal()
	emit("rtp_two_byte_ext", b, err)

	// Padding: 4 bytes, the last one counting them.
	pad := rtp.Packet{Header: rtp.Header{Version: 2, Padding: true, PayloadType: 100, SequenceNumber: 7,
		Timestamp: 8, SSRC: 9}, Payload: payload, PaddingSize: 4}
	b, err = pad.Marshal()
	emit("rtp_padding", b, err)
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func report(ssrc uint32) rtcp.ReceptionReport {
	return rtcp.ReceptionReport{SSRC: ssrc, FractionLost: 25, TotalLost: 1000, LastSequenceNumber: 0x00010203,
		Jitter: 45, LastSenderReport: 0x11112222, Delay: 0x8000}
}

func rtcpPackets() {
	sr := rtcp.SenderReport{SSRC: 0x01020304, NTPTime: 0xe1a2b3c4d5e6f708, RTPTime: 123456, PacketCount: 77,
		OctetCount: 7700, Reports: []rtcp.ReceptionReport{report(0xaaaaaaaa), report(0xbbbbbbbb)}}
	b, err := sr.Marshal()
	emit("rtcp_sr", b, err)

	rr := rtcp.ReceiverReport{SSRC: 0x05060708, Reports: []rtcp.ReceptionReport{report(0xcccccccc)}}
	b, err = rr.Marshal()
	emit("rtcp_rr", b, err)

	b, err = rtcp.NewCNAMESourceDescription(0x05060708, "user@example.org").Marshal()
	emit("rtcp_sdes", b, err)

	bye := rtcp.Goodbye{Sources: []uint32{0x05060708, 0x090a0b0c}, Reason: "camera off"}
	b, err = bye.Marshal()
	emit("rtcp_bye", b, err)

	lost := []uint16{65530, 65531, 65535, 3, 40, 41}
	nack := rtcp.TransportLayerNack{SenderSSRC: 1, MediaSSRC: 2, Nacks: rtcp.NackPairsFromSequenceNumbers(lost)}
	b, err = nack.Marshal()
	emit("rtcp_nack", b, err)

	pli := rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: 2}
	b, err = pli.Marshal()
	emit("rtcp_pli", b, err)

	fir := rtcp.FullIntraRequest{SenderSSRC: 1, FIR: []rtcp.FIREntry{{SSRC: 2, SequenceNumber: 9}, {SSRC: 3, SequenceNumber: 250}}}
	b, err = fir.Marshal()
	emit("rtcp_fir", b, err)

	remb := rtcp.ReceiverEstimatedMaximumBitrate{SenderSSRC: 1, Bitrate: 1500000, SSRCs: []uint32{2, 3}}
	b, err = remb.Marshal()
	emit("rtcp_remb", b, err)

	ccfb := rtcp.CCFeedbackReport{SenderSSRC: 1, ReportTimestamp: 0x12345678, ReportBlocks: []rtcp.CCFeedbackReportBlock{
		{MediaSSRC: 2, BeginSequence: 65534, MetricBlocks: []rtcp.CCFeedbackMetricBlock{
			{Received: true, ECN: rtcp.ECNECT0, ArrivalTimeOffset: 100},
			{Received: false},
			{Received: true, ECN: rtcp.ECNCE, ArrivalTimeOffset: 0x1fff},
		}},
		{MediaSSRC: 3, BeginSequence: 10, MetricBlocks: []rtcp.CCFeedbackMetricBlock{
			{Received: true, ECN: rtcp.ECNNonECT, ArrivalTimeOffset: 1},
			{Received: true, ECN: rtcp.ECNECT1, ArrivalTimeOffset: 2},
		}},
	}}
	b, err = ccfb.Marshal()
	emit("rtcp_ccfb", b, err)

	compound := rtcp.CompoundPacket{&rr, rtcp.NewCNAMESourceDescription(0x05060708, "user@example.org"), &pli}
	b, err = compound.Marshal()
	emit("rtcp_compound", b, err)
}

// twccPackets records arrivals (sequence number, µs; -1 lost) and emits what Pion builds.
func twccPackets() {
	cases := []struct {
		name     string
		arrivals [][2]int64
	}{
		// Small deltas, one loss: status vectors.
		{"twcc_small", [][2]int64{{100, 1_000_000}, {101, 1_001_000}, {103, 1_003_250}, {104, 1_004_000}}},
		// A long run of small deltas and a large and a negative delta, across the wrap.
		{"twcc_mixed", func() [][2]int64 {
			var a [][2]int64
			for i := int64(0); i < 20; i++ {
				a = append(a, [2]int64{(65530 + i) % 65536, 5_000_000 + 500*i})
			}
			a = append(a, [2]int64{14, 5_200_000}, [2]int64{15, 5_199_000}, [2]int64{30, 5_201_000})
			return a
		}()},
	}
	for _, c := range cases {
		r := twcc.NewRecorder(0xabcdef01)
		for _, a := range c.arrivals {
			r.Record(0x55667788, uint16(a[0]), a[1])
		}
		pkts := r.BuildFeedbackPacket()
		if len(pkts) != 1 {
			fmt.Fprintln(os.Stderr, c.name, "built", len(pkts), "packets")
			os.Exit(1)
		}
		b, err := pkts[0].Marshal()
		emit(c.name, b, err)
	}
}

func main() {
	fmt.Println("# Generated by crates/oxirtc-rtp/tests/pion/main.go with Debian's Pion packages (see its comment).")
	rtpPackets()
	rtcpPackets()
	twccPackets()
}
