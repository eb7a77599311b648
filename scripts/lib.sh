# Shell helpers shared by the scripts here (sourced, not run): `. scripts/lib.sh` from the root.

# Whether this CPU and its loader run x86-64-v3 code (AVX2, BMI1/2, FMA, MOVBE): glibc's loader
# lists the levels it supports. scripts/build-pgo compiles for it, and scripts/fuzz does too, so
# that the code that exists only with AVX2 is fuzzed where it is deployed.
has_x86_64_v3() {
  [ "$(uname -m)" = x86_64 ] && /lib64/ld-linux-x86-64.so.2 --help 2>/dev/null | grep -q 'x86-64-v3 (supported'
}
