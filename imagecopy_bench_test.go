package geostack_test

import (
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/internal/testserver"
)

// heapPeak samples the heap in use (HeapInuse: the spans holding objects,
// live or not yet swept) as data pass, so that a peak between two garbage
// collections is seen wherever the copy is. The samples are taken every
// MiB of data, by the bytes that passed, not by a timer; reading them does
// not stop the world.
type heapPeak struct {
	samples []metrics.Sample
	peak    uint64
}

func newHeapPeak() *heapPeak {
	return &heapPeak{samples: []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
	}}
}

func (h *heapPeak) sample() {
	metrics.Read(h.samples)
	if n := h.samples[0].Value.Uint64() + h.samples[1].Value.Uint64(); n > h.peak {
		h.peak = n
	}
}

// MB is the peak in MB (10⁶ bytes).
func (h *heapPeak) MB() float64 { return float64(h.peak) / 1e6 }

// sampling samples the heap every MiB that r reads.
type sampling struct {
	r    io.Reader
	h    *heapPeak
	next int64
	n    int64
}

func (s *sampling) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if s.n += int64(n); s.n >= s.next {
		s.h.sample()
		s.next = s.n + 1<<20
	}
	return n, err
}

// bigSource is a fake cloud holding, in TYO1, a private image of
// gnct00000001 with size bytes of generated data, whose Glance instances
// keep no uploaded data (so that copies cost no memory on the fake's side).
func bigSource(tb testing.TB, size int64) (*copyEnv, geostack.ImageRef) {
	tb.Helper()
	w := testserver.DefaultWorld()
	data := testserver.ImageData{Size: size, Seed: "big"}
	const id = "00000000-0000-4000-8000-00000000b16b"
	w.Images = append(w.Images, testserver.Image{ID: id, Name: "big", Owner: w.Project("gnct00000001").ID,
		Visibility: "private", Region: "TYO1", Data: &data})
	return newCopyEnv(tb, testserver.Options{World: w, DiscardImageData: true}), geostack.ImageRef{Region: "TYO1", ID: id}
}

// BenchmarkCopyImage copies an image from TYO1 to SJC1 of the fake cloud,
// on loopback, next to the raw pipe it should come close to: gophercloud's
// download handed to its upload as is (io.Copy in net/http), without
// hashing or checks. Both include creating the image at the destination.
// MB/s is the throughput; peak-heap-MB the largest heap in use seen during
// the copies (the whole process: the fake cloud's side too), sampled every
// MiB; B/op shows that what a copy allocates does not grow with the size.
//
//	go test -run '^$' -bench 'CopyImage/256MiB' -benchtime 3x .
//	go test -run '^$' -bench 'CopyImage/1GiB' -benchtime 1x .
func BenchmarkCopyImage(b *testing.B) {
	for _, size := range []int64{256 << 20, 1 << 30} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			e, ref := bigSource(b, size)
			src, dst := e.images(b, "TYO1"), e.images(b, "SJC1")
			b.Run("raw", func(b *testing.B) {
				peak := newHeapPeak()
				runtime.GC()
				b.SetBytes(size)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					id := rawCopy(b, src, dst, ref.ID, peak)
					b.StopTimer()
					if err := images.Delete(b.Context(), dst, id).ExtractErr(); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				b.ReportMetric(peak.MB(), "peak-heap-MB")
			})
			b.Run("copy", func(b *testing.B) {
				peak := newHeapPeak()
				opts := geostack.CopyOptions{Progress: func(int64, int64) { peak.sample() }}
				runtime.GC()
				b.SetBytes(size)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					cp, err := e.client.CopyImage(b.Context(), ref, "SJC1", opts)
					if err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					if err := images.Delete(b.Context(), dst, cp.ID).ExtractErr(); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				b.ReportMetric(peak.MB(), "peak-heap-MB")
			})
			// Both, one after the other in each iteration, so that a machine
			// whose load changes slows both alike: the ratio is the figure
			// to read. The CPU time each took (the process's, the fake
			// cloud's included) is the ratio's floor on a machine so busy
			// that throughput is CPU time alone.
			b.Run("copy-vs-raw", func(b *testing.B) {
				var raw, cp, rawCPU, cpCPU time.Duration
				for range b.N {
					t0, c0 := time.Now(), cpuTime()
					id := rawCopy(b, src, dst, ref.ID, newHeapPeak())
					raw, rawCPU = raw+time.Since(t0), rawCPU+cpuTime()-c0
					b.StopTimer()
					if err := images.Delete(b.Context(), dst, id).ExtractErr(); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					t0, c0 = time.Now(), cpuTime()
					c, err := e.client.CopyImage(b.Context(), ref, "SJC1", geostack.CopyOptions{})
					if err != nil {
						b.Fatal(err)
					}
					cp, cpCPU = cp+time.Since(t0), cpCPU+cpuTime()-c0
					b.StopTimer()
					if err := images.Delete(b.Context(), dst, c.ID).ExtractErr(); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				mbps := func(d time.Duration) float64 { return float64(size) * float64(b.N) / d.Seconds() / 1e6 }
				b.ReportMetric(mbps(raw), "raw-MB/s")
				b.ReportMetric(mbps(cp), "copy-MB/s")
				b.ReportMetric(100*raw.Seconds()/cp.Seconds(), "copy/raw-%")
				if rawCPU > 0 && cpCPU > 0 {
					b.ReportMetric(float64(rawCPU.Nanoseconds())/float64(size*int64(b.N)), "raw-cpu-ns/B")
					b.ReportMetric(float64(cpCPU.Nanoseconds())/float64(size*int64(b.N)), "copy-cpu-ns/B")
				}
			})
		})
	}
}

// rawCopy is the raw pipe: a new image at dst, and src's download handed
// to its upload.
func rawCopy(b *testing.B, src, dst *gophercloud.ServiceClient, id string, peak *heapPeak) string {
	b.Helper()
	im, err := images.Create(b.Context(), dst, images.CreateOpts{Name: "raw", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	if err != nil {
		b.Fatal(err)
	}
	body, err := imagedata.Download(b.Context(), src, id).Extract()
	if err != nil {
		b.Fatal(err)
	}
	defer body.Close()
	if err := imagedata.Upload(b.Context(), dst, im.ID, &sampling{r: body, h: peak}).ExtractErr(); err != nil {
		b.Fatal(err)
	}
	return im.ID
}
