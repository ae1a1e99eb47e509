//go:build !linux

package normalize

func threadCPU() int64 { return 0 }
