#!/usr/bin/env python3
"""Checks the golden bytes of Tests/X86AsmTests against nasm.

Each `NAME.check("nasm source", "hex bytes")` in the test files, where NAME was declared as
`let NAME = Golden(.bNN)` or `Golden(.bNN, origin: X)`, is assembled with
`nasm -f bin` after `bits NN` and `org X`, and the output compared with the hex string.
The tests themselves never run nasm; this script is how their bytes were produced and how
they can be re-checked after an edit (`apt-get install nasm`).

Usage: Tools/check-x86asm-golden.py [--fill] [test files...]
(default: all of Tests/X86AsmTests). Exits 1 if any case differs or fails to assemble.
--fill writes nasm's bytes into the cases whose hex string is empty: how a new case is made,
before its Swift side is run against them.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DECLARATION = re.compile(r'let (\w+) = Golden\(\.b(16|32|64)(?:, origin: ([0-9A-Fa-fx_]+))?\)')
CHECK = re.compile(r'\b(\w+)\.check\(\s*"((?:[^"\\]|\\.)*)",\s*"([0-9A-F ]*)"')


def swift_string(literal):
    return literal.replace('\\n', '\n').replace('\\"', '"').replace('\\\\', '\\')


def assemble(bits, origin, source):
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, 'case.asm')
        with open(path, 'w') as f:
            f.write(f'bits {bits}\norg {origin}\n{source}\n')
        result = subprocess.run(['nasm', '-f', 'bin', '-w+error=label-orphan', path, '-o', path + '.bin'],
                                capture_output=True, text=True)
        if result.returncode != 0:
            return None, result.stderr.strip()
        with open(path + '.bin', 'rb') as f:
            return ' '.join(f'{b:02X}' for b in f.read()), None


def main():
    fill = '--fill' in sys.argv[1:]
    files = [a for a in sys.argv[1:] if a != '--fill']
    files = files or sorted(glob.glob(os.path.join(ROOT, 'Tests/X86AsmTests/*.swift')))
    checked = failed = 0
    for name in files:
        lines = open(name).read().splitlines(keepends=True)
        goldens = {}
        for line_number, line in enumerate(lines, 1):
            for match in DECLARATION.finditer(line):
                goldens[match.group(1)] = (match.group(2), (match.group(3) or '0').replace('_', ''))
            for match in CHECK.finditer(line):
                variable, source, expected = match.groups()
                if variable not in goldens:
                    continue
                bits, origin = goldens[variable]
                actual, error = assemble(bits, origin, swift_string(source))
                if fill and expected == '' and actual is not None:
                    lines[line_number - 1] = line.replace(match.group(0), match.group(0)[:-1] + actual + '"', 1)
                    continue
                checked += 1
                if actual != expected:
                    failed += 1
                    print(f'{os.path.relpath(name, ROOT)}:{line_number}: {source!r}\n'
                          f'  test: {expected}\n  nasm: {actual or error}')
        if fill:
            with open(name, 'w') as f:
                f.write(''.join(lines))
    print(f'{checked - failed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
