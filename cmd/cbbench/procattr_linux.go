package main

import "syscall"

// childProcAttr makes the chaos run's child processes die with cbbench.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
