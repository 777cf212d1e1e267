# shellcheck shell=bash
# Sourced by scripts/check-infra and scripts/build-lambdas: finds or makes a
# Python venv holding the PyPI tools they need.
#
#   venv=$(tools_venv 'import cfnlint' cfn-lint==1.58.0)
#
# Order: .venv-infra when it already has the tools; else .venv-localstack
# (made by scripts/localstack-up, complete once its .hookline-pins stamp is
# written) when it has them; else .venv-infra, created or completed here. The
# LocalStack venv is only read, never installed into: its pins are its own.
# Progress goes to stderr; stdout is the venv's path.

# A Python >= 3.9 that runs. python3.13 on PATH can be a pyenv shim for a
# version that is not active (it then exits 127), so each candidate is run.
tools_find_python() {
  local p
  for p in ~/.pyenv/versions/3.13*/bin/python3.13 python3.13 python3; do
    if command -v "$p" >/dev/null 2>&1 &&
      "$p" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
      command -v "$p"
      return
    fi
  done
  return 1
}

# tools_venv CHECK PACKAGE...: CHECK is Python code that succeeds when the
# tools are importable (e.g. 'import cfnlint').
tools_venv() {
  local check=$1 venv py
  shift
  if [[ -x .venv-infra/bin/python ]] && .venv-infra/bin/python -c "$check" 2>/dev/null; then
    echo "$PWD/.venv-infra"
    return
  fi
  if [[ -f .venv-localstack/.hookline-pins && -x .venv-localstack/bin/python ]] &&
    .venv-localstack/bin/python -c "$check" 2>/dev/null; then
    echo "$PWD/.venv-localstack"
    return
  fi
  venv=.venv-infra
  if [[ ! -x $venv/bin/python ]]; then
    py=$(tools_find_python) || {
      echo "no Python >= 3.9 found (tried ~/.pyenv/versions/3.13*, python3.13, python3)" >&2
      return 1
    }
    echo "creating $venv with $py" >&2
    "$py" -m venv "$venv" >&2
  fi
  echo "installing $* into $venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >&2
  "$venv/bin/python" -c "$check" >&2
  echo "$PWD/$venv"
}

# cargo-lambda and its linker zig (PyPI), the versions the shared LocalStack
# recipe verified (scripts/localstack-up installs the same into its venv).
CARGO_LAMBDA_PACKAGES=("cargo-lambda==1.9.2" "ziglang==0.17.1")

# Prints the venv that has cargo-lambda and zig, installing them if needed
# (scripts/test, scripts/dev, scripts/build-lambdas).
cargo_lambda_venv() {
  tools_venv 'import ziglang, shutil, sys; sys.exit(not shutil.which("cargo-lambda", path=sys.prefix + "/bin"))' \
    "${CARGO_LAMBDA_PACKAGES[@]}"
}
