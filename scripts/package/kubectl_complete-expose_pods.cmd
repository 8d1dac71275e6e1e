@echo off
rem kubectl's plugin completion (kubectl 1.26+): kubectl runs this, found on PATH,
rem with the plugin's arguments and then the word being completed.
kubectl-expose_pods.exe __complete -- %*
