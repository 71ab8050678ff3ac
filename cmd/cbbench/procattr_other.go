//go:build !linux

package main

import "syscall"

// childProcAttr: without Pdeathsig, children are stopped by cbbench's
// cleanup only.
func childProcAttr() *syscall.SysProcAttr { return nil }
