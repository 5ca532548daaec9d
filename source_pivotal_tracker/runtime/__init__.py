"""What both ways in run on: output, stop signals, time limits, the manifest's spec and stream schemas."""
