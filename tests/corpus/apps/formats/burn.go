package main

import (
	"os"
	"runtime/pprof"
	"time"
)

func main() {
	f, _ := os.Create(os.Args[1])
	pprof.StartCPUProfile(f)
	end := time.Now().Add(2 * time.Second)
	s := 0
	for time.Now().Before(end) {
		s += hashLoop(200000)
		s += sortLoop(300)
	}
	pprof.StopCPUProfile()
	f.Close()
	println(s)
}

//go:noinline
func hashLoop(n int) int {
	h := 1469598103
	for i := 0; i < n; i++ {
		h = (h ^ i) * 16777619
	}
	return h & 1
}

//go:noinline
func sortLoop(n int) int {
	a := make([]int, n)
	for i := range a {
		a[i] = (i * 7919) % n
	}
	for i := 0; i < n; i++ {
		for j := 0; j+1 < n-i; j++ {
			if a[j] > a[j+1] {
				a[j], a[j+1] = a[j+1], a[j]
			}
		}
	}
	return a[0]
}
