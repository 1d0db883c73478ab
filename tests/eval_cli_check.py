# logitnorm-eval's command line and its readers on bad files, with the standard library only
# (every file is crafted byte by byte):
#  - each bad file exits 1 with one message that names the file and where (byte offset or line),
#    and never crashes (a signal, or a sanitizer report under ASan/UBSan builds);
#  - each usage error exits 2;
#  - --help documents every option of the parser's table, and names nothing else.
# Usage: python3 eval_cli_check.py path/to/logitnorm-eval path/to/logitnorm_eval.c work_dir
import json
import os
import re
import struct
import subprocess
import sys
import xml.dom.minidom
import xml.parsers.expat

exe, source, work = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(work, exist_ok=True)


def run(args):
    return subprocess.run([exe] + args, capture_output=True, text=True, errors="replace")


def npy(descr="<f4", shape="(3,)", order="False", version=1, data=None, header=None, length=None):
    h = header if header is not None else "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, order, shape)
    h = (h + "\n").encode("latin1")
    n = len(h) if length is None else length
    head = b"\x93NUMPY" + bytes([version, 0]) + (struct.pack("<H", n) if version == 1 else struct.pack("<I", n))
    body = data if data is not None else struct.pack("<3f", 1.0, 2.0, 3.0)
    return head + h + body


def write(name, content):
    path = os.path.join(work, name)
    with open(path, "wb" if isinstance(content, bytes) else "w") as f:
        f.write(content)
    return path


good = write("good.npy", npy())
good_logits = write("good_logits.npy", npy(shape="(2, 3)", data=struct.pack("<6f", 1, 2, 3, 3, 2, 1)))
v2_header_len_offset = 8

# (file name, content, extra arguments, words the message must contain)
bad_files = [
    ("truncated.npy", npy()[:-5], [], ["byte %d" % (len(npy()) - 12), "12 data bytes", "truncated"]),
    ("truncated_header.npy", npy()[:30], [], ["byte 8", "header length"]),
    ("short.npy", b"\x93NUMPY\x01", [], ["byte 7", "truncated"]),
    ("wrong_magic.npy", b"\x93NUMPZ" + npy()[6:], [], ["byte 0", "magic"]),
    ("header_past_end.npy", npy(length=60000), [], ["byte 8", "header length 60000", "past the end"]),
    ("header_past_end_v2.npy", npy(version=2, length=0xFFFFFFF0), [], ["byte 8", "header length"]),
    ("shape_overflow.npy", npy(descr="<f8", shape="(4611686018427387904, 8)"), [], ["overflows"]),
    ("dim_overflow.npy", npy(shape="(99999999999999999999,)"), [], ["overflows a 64-bit integer"]),
    ("fortran.npy", npy(shape="(2, 3)", order="True", data=b"\0" * 24), [], ["fortran_order"]),
    ("complex.npy", npy(descr="<c16", data=b"\0" * 48), [], ["unsupported dtype", "<c16"]),
    ("uint8.npy", npy(descr="|u1", data=b"\0" * 3), [], ["unsupported dtype"]),
    ("structured.npy", npy(header="{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }"), [],
     ["structured"]),
    ("three_dims.npy", npy(shape="(1, 1, 3)"), [], ["more than 2 dimensions"]),
    ("scalar.npy", npy(shape="()", data=b"\0" * 4), [], ["scalar"]),
    ("version9.npy", npy(version=9), [], ["byte 6", "version 9.0"]),
    ("missing_key.npy", npy(header="{'descr': '<f4', 'shape': (3,), }"), [], ["lacks"]),
    ("extra_bytes.npy", npy() + b"\0\0\0\0", [], ["12 data bytes", "16"]),
    ("big_int.npy", npy(descr="<i8", data=struct.pack("<3q", 1, 2**60, 3)), [], ["byte %d" % (len(npy()) - 12 + 8), "2^53"]),
    ("nan.npy", npy(data=struct.pack("<3f", 1.0, float("nan"), 3.0)), [], ["score 1 ", "NaN"]),
    ("inf.csv", "0.5\n0.7\ninf\n", [], ["score 2 ", "+inf"]),
    ("empty.npy", b"", [], ["empty"]),
    ("empty.csv", "", [], ["line 1", "empty"]),
    ("only_header.csv", "score\n# nothing\n", [], ["no numbers"]),
    ("word_on_line_4.csv", "score\n0.5\n0.25\nzero point one\n0.75\n", [], ["line 4", "not a number"]),
    ("empty_field.csv", "1,2\n3,\n", ["--delimiter", ","], ["line 2", "field 2 is empty"]),
    ("ragged.csv", "1,2\n3,4\n5\n", [], ["line 3", "1 values", "line 1 has 2"]),
    ("two_columns.csv", "1,2\n3,4\n", [], ["expected 1-D scores"]),
    ("binary.dat", b"\x00\x01\x02\x03", [], ["byte 0", "NUL", "--dtype"]),
    ("raw_size.bin", b"\0" * 10, ["--dtype", "f32"], ["byte 8", "10 bytes", "f32"]),
    ("raw_shape.bin", b"\0" * 16, ["--dtype", "f32", "--shape", "5"], ["needs 20 bytes", "truncated"]),
    ("raw_rows.bin", b"\0" * 12, ["--dtype", "f32", "--shape", "-1x2"], ["rows of 2"]),
    ("missing_file.npy", None, [], ["cannot open"]),
]

failures = []
for name, content, extra, words in bad_files:
    path = write(name, content) if content is not None else os.path.join(work, name)
    for role in ("id", "ood"):
        args = ["ood", "--id", path, "--ood", good] if role == "id" else ["ood", "--id", good, "--ood", path]
        p = run(args + extra)
        err = p.stderr
        problems = []
        if p.returncode != 1:
            problems.append("exit %d, not 1" % p.returncode)
        if "Sanitizer" in err or "runtime error" in err:
            problems.append("sanitizer report")
        if path not in err:
            problems.append("message does not name the file")
        problems += ["message lacks %r" % w for w in words if w not in err]
        if err.count("\n") != 1:
            problems.append("not one line")
        if p.stdout:
            problems.append("wrote to stdout")
        if problems:
            failures.append("%s as %s: %s\n    stderr: %s" % (name, role, "; ".join(problems), err.strip()))

# logits: wrong rank, mismatched columns, a value beyond float32, no columns
bad_logits = [
    ("logits_1d.npy", npy(), ["expected 2-D logits"]),
    ("logits_cols.npy", npy(shape="(3, 2)", data=struct.pack("<6f", *range(6))), ["2 columns", "have 3"]),
    ("logits_f64.npy", npy(descr="<f8", shape="(1, 3)", data=struct.pack("<3d", 1, 1e300, 2)),
     ["row 0, column 1", "float32"]),
    ("logits_nan.npy", npy(shape="(1, 3)", data=struct.pack("<3f", 1, float("nan"), 2)), ["NaN"]),
    ("logits_empty_cols.npy", npy(shape="(3, 0)", data=b""), ["no columns"]),
]
for name, content, words in bad_logits:
    path = write(name, content)
    p = run(["scores", "--id-logits", good_logits, "--ood-logits", path])
    err = p.stderr
    if p.returncode != 1 or path not in err or any(w not in err for w in words) or "Sanitizer" in err:
        failures.append("scores with %s: exit %d, stderr: %s" % (name, p.returncode, err.strip()))

# selective: bad confidences, correctness, logits and labels (good_logits has 2 rows of 3)
good_right = write("good_right.csv", "1\n0\n1\n")
good_labels = write("good_labels.npy", npy(descr="<i8", shape="(2,)", data=struct.pack("<2q", 2, 0)))
one = write("one.csv", "0.5\n")
bad_selective = [  # (arguments, the file the message names, words it must contain)
    (["--confidence", good, "--correct", write("right_two.csv", "1\n2\n0\n")], "right_two.csv",
     ["value 1 ", "not 1 (right) or 0"]),
    (["--confidence", good, "--correct", write("right_short.csv", "1\n0\n")], "right_short.csv",
     ["2 values", "are 3"]),
    (["--confidence", write("conf_nan.npy", npy(data=struct.pack("<3f", 1.0, 2.0, float("nan")))),
      "--correct", good_right], "conf_nan.npy", ["confidence 2 ", "NaN"]),
    (["--confidence", good, "--correct", write("right_2d.csv", "1,0\n0,1\n1,1\n")], "right_2d.csv",
     ["expected 1-D"]),
    (["--confidence", one, "--correct", write("right_one.csv", "1\n"), "--rule", "per-sample"], "one.csv",
     ["invalid state"]),
    (["--logits", good_logits, "--labels", write("labels_range.csv", "2\n3\n")], "labels_range.csv",
     ["label 1 ", "not a class in [0, 3)"]),
    (["--logits", good_logits, "--labels", write("labels_frac.csv", "0.5\n1\n")], "labels_frac.csv",
     ["label 0 ", "0.5"]),
    (["--logits", good_logits, "--labels", write("labels_neg.csv", "1\n-1\n")], "labels_neg.csv",
     ["label 1 ", "-1"]),
    (["--logits", good_logits, "--labels", write("labels_count.csv", "1\n1\n1\n")], "labels_count.csv",
     ["3 labels", "2 rows"]),
    (["--logits", good, "--labels", good_labels], "good.npy", ["expected 2-D logits"]),
    (["--logits", write("logits_inf.npy", npy(shape="(2, 3)", data=struct.pack("<6f", 1, 2, float("inf"), 0, 0, 0))),
      "--labels", good_labels], "logits_inf.npy", ["inf"]),
]
# calibration: cal_logits has right and wrong rows, so T has a finite minimiser; labels that are
# every row's argmax (three_cols with label 0) leave none
cal_logits = write("cal_logits.npy", npy(shape="(4, 3)", data=struct.pack("<12f", 2, 0, 0, 0, 2, 0, 0, 0, 2, 2, 0, 0)))
cal_labels = write("cal_labels.csv", "0\n1\n2\n1\n")
three_cols = write("three_cols.npy", npy(shape="(1, 3)", data=struct.pack("<3f", 1, 0, 0)))
bad_calibration = [
    (["--logits", good_logits, "--labels", write("cal_labels_range.csv", "0\n7\n")], "cal_labels_range.csv",
     ["label 1 ", "not a class in [0, 3)"]),
    (["--logits", good_logits, "--labels", good_labels, "--fit-logits",
      write("fit_cols.npy", npy(shape="(3, 2)", data=struct.pack("<6f", *range(6)))), "--fit-labels",
      write("fit_cols_labels.csv", "0\n1\n0\n")], "fit_cols.npy", ["2 columns", "have 3"]),
    (["--logits", good_logits, "--labels", good_labels, "--fit-logits", three_cols, "--fit-labels",
      write("fit_argmax.csv", "0\n")], "three_cols.npy", ["invalid state"]),
    (["--logits", good_logits, "--labels", write("cal_labels_short.csv", "1\n")], "cal_labels_short.csv",
     ["1 labels", "2 rows"]),
]
for extra, named, words in [(["selective"] + a, n, w) for a, n, w in bad_selective] + \
        [(["calibration"] + a, n, w) for a, n, w in bad_calibration]:
    p = run(extra)
    err = p.stderr
    if (p.returncode != 1 or named not in err or any(w not in err for w in words) or "Sanitizer" in err
            or err.count("\n") != 1 or p.stdout):
        failures.append("%s: exit %d, stderr: %s" % (extra, p.returncode, err.strip()))

# usage errors: exit 2 with a message and a pointer to --help
table = open(source).read()
found = re.findall(r'\{\.name = "(--[a-z-]+)"(?:, \.alias = "(-[a-z])")?, \.id = \w+, (\.arg = "[^"]+", )?'
                   r'\.commands = ([A-Z_ |]+),', table)
options = [(name, alias, arg) for name, alias, arg, _ in found]
assert len(options) >= 23, options
with_arg = [name for name, _, arg in options if arg]
# the first command each option belongs to, from its table entry
command_bits = {"CMD_OOD": ["ood"], "CMD_SCORES": ["scores"], "CMD_SELECTIVE": ["selective"],
                "CMD_CALIBRATION": ["calibration"],
                "CMD_DETECT": ["ood", "scores"], "CMD_ANY": ["ood"]}
command_of = {name: command_bits[bits.split("|")[0].strip()][0] for name, _, _, bits in found}
usage_cases = [
    [],
    ["evaluate"],
    ["ood"],
    ["ood", "--id", good],
    ["ood", "--ood", good],
    ["ood", "--id", good, "--ood", good, "--frobnicate"],
    ["ood", "--id", good, "--ood", good, "stray"],
    ["ood", "--id", good, "--ood", good, "--id-logits", good],
    ["scores", "--id-logits", good, "--ood-logits", good, "--id", good],
    ["ood", "--id", good, "--ood", good, "--tpr", "0"],
    ["ood", "--id", good, "--ood", good, "--tpr", "1.5"],
    ["ood", "--id", good, "--ood", good, "--tpr", "abc"],
    ["ood", "--id", good, "--ood", good, "--convention", "imagenet"],
    ["ood", "--id", good, "--ood", good, "--convention", "paper", "--all-conventions"],
    ["ood", "--id", good, "--ood", good, "--label", "x"],
    ["ood", "--id", good, "--id", good, "--ood", good],
    ["ood", "--id", good, "--ood", good, "--json=yes"],
    ["ood", "--id", good, "--ood", good, "--dtype", "f128"],
    ["ood", "--id", good, "--ood", good, "--shape", "3x0"],
    ["ood", "--id", good, "--ood", good, "--delimiter", "|"],
    ["scores", "--id-logits", good, "--ood-logits", good, "--threads", "0"],
    ["scores", "--id-logits", good, "--ood-logits", good, "--odin-temperature", "-1"],
    ["selective"],
    ["selective", "--confidence", good],
    ["selective", "--correct", good],
    ["selective", "--logits", good_logits],
    ["selective", "--labels", good],
    ["selective", "--confidence", good, "--correct", good, "--logits", good_logits, "--labels", good],
    ["selective", "--confidence", good, "--correct", good, "--confidence", good],
    ["selective", "--confidence", good, "--correct", good, "--coverage", "0"],
    ["selective", "--confidence", good, "--correct", good, "--coverage", "1.01"],
    ["selective", "--confidence", good, "--correct", good, "--risk", "-0.1"],
    ["selective", "--confidence", good, "--correct", good, "--rule", "step"],
    ["selective", "--confidence", good, "--correct", good, "--score", "energy"],
    ["selective", "--logits", good_logits, "--labels", good, "--score", "mahalanobis"],
    ["selective", "--confidence", good, "--correct", good, "--tpr", "0.9"],
    ["ood", "--id", good, "--ood", good, "--coverage", "0.5"],
    ["calibration"],
    ["calibration", "--logits", good_logits],
    ["calibration", "--labels", good],
    ["calibration", "--logits", good_logits, "--labels", good, "--fit-logits", good_logits],
    ["calibration", "--logits", good_logits, "--labels", good, "--fit-labels", good],
    ["calibration", "--logits", good_logits, "--labels", good, "--bins", "0"],
    ["calibration", "--logits", good_logits, "--labels", good, "--bins", "2.5"],
    ["calibration", "--logits", good_logits, "--labels", good, "--bins", "10001"],
    ["calibration", "--logits", good_logits, "--labels", good, "--confidence", good],
    ["calibration", "--logits", good_logits, "--labels", good, "--rule", "trapezoid"],
    ["selective", "--logits", good_logits, "--labels", good, "--bins", "10"],
    ["scores", "--id-logits", good, "--ood-logits", good, "--labels", good],
]
# every option that takes an argument, given last without one
for name in with_arg:
    usage_cases.append([command_of[name], name])
for args in usage_cases:
    p = run(args)
    if p.returncode != 2 or "--help" not in p.stderr or p.stdout or "Sanitizer" in p.stderr:
        failures.append("usage %s: exit %d, stderr: %s" % (args, p.returncode, p.stderr.strip()))
    if len(args) == 2 and args[1] in with_arg and "needs an argument" not in p.stderr:
        failures.append("usage %s: %s" % (args, p.stderr.strip()))

# --help: every option of the table is documented, and every option named is in the table
p = run(["--help"])
assert p.returncode == 0 and not p.stderr, (p.returncode, p.stderr)
documented = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[a-z])\b", p.stdout))
accepted = {name for name, _, _ in options} | {alias for _, alias, _ in options if alias}
for name in sorted(accepted - documented):
    failures.append("--help does not document %s" % name)
for name in sorted(documented - accepted):
    failures.append("--help names %s, which the parser does not accept" % name)
for word in ("paper", "openood", "pytorch-ood", "sklearn", ".npy", "CSV", "Exit status"):
    if word not in p.stdout:
        failures.append("--help does not mention %s" % word)
# each documented option is accepted by the parser (an unknown one is a usage error)
for name in sorted(accepted):
    if name in ("--help", "-h", "--version"):
        q = run([name])
        if q.returncode != 0:
            failures.append("%s exits %d" % (name, q.returncode))
        continue
    q = run([command_of[name], name, "x"] if name in with_arg else [command_of[name], name])
    if "unknown option" in q.stderr:
        failures.append("%s is documented but unknown to the parser" % name)

# JSON and SVG stay well-formed whatever a set is called; the SVG's axes are labelled
svg = os.path.join(work, "names.svg")
odd = 'a "quoted" \\ & <tagged> name'
p = run(["ood", "--id", good, "--label", odd, "--ood", write("odd.csv", "0.5\n2.5\n1\n"), "--json", "--svg", svg])
try:
    doc = json.loads(p.stdout)
    if doc["ood"][0]["name"] != odd:
        failures.append("JSON name %r" % doc["ood"][0]["name"])
    tree = xml.dom.minidom.parse(svg)
    texts = " ".join(t.firstChild.data for t in tree.getElementsByTagName("text") if t.firstChild)
    for label in ("share of the set per bin", "TPR: ID accepted", "FPR: OOD accepted as ID", odd):
        if label not in texts:
            failures.append("the SVG lacks the text %r" % label)
except (ValueError, KeyError, IndexError, OSError, xml.parsers.expat.ExpatError) as e:
    failures.append("JSON or SVG with an odd name: %r (exit %d, %s)" % (e, p.returncode, p.stderr))

# the risk-coverage SVG is well-formed and its axes are labelled
svg = os.path.join(work, "selective.svg")
p = run(["selective", "--confidence", write("conf.csv", "0.9\n0.8\n0.2\n0.8\n0.5\n0.2\n"), "--correct",
         write("right.csv", "1\n1\n1\n0\n0\n0\n"), "--svg", svg])
try:
    if p.returncode != 0 or "AURC" not in p.stdout:
        failures.append("selective run: exit %d, %s" % (p.returncode, p.stderr))
    tree = xml.dom.minidom.parse(svg)
    texts = " ".join(t.firstChild.data for t in tree.getElementsByTagName("text") if t.firstChild)
    for label in ("coverage: share of the samples accepted", "errors accepted / accepted", "E-AURC", "29.167%"):
        if label not in texts:
            failures.append("the selective SVG lacks the text %r" % label)
except (OSError, xml.parsers.expat.ExpatError) as e:
    failures.append("selective SVG: %r (exit %d, %s)" % (e, p.returncode, p.stderr))

# the reliability SVG: four panels with labelled axes
svg = os.path.join(work, "calibration.svg")
p = run(["calibration", "--logits", cal_logits, "--labels", cal_labels, "--svg", svg])
try:
    if p.returncode != 0 or "ECE" not in p.stdout or "fitted on the evaluated rows" not in p.stdout:
        failures.append("calibration run: exit %d, %s%s" % (p.returncode, p.stdout, p.stderr))
    tree = xml.dom.minidom.parse(svg)
    texts = [t.firstChild.data for t in tree.getElementsByTagName("text") if t.firstChild]
    for label in ("mean confidence of the bin", "accuracy of the bin"):
        if sum(label in t for t in texts) != 4:
            failures.append("the calibration SVG has not 4 times the text %r" % label)
    for label in ("equal-width bins", "equal-mass bins"):
        if sum(t.startswith(label) for t in texts) != 2:
            failures.append("the calibration SVG has not 2 panels of %r" % label)
except (OSError, xml.parsers.expat.ExpatError) as e:
    failures.append("calibration SVG: %r (exit %d, %s)" % (e, p.returncode, p.stderr))

# a good run, for contrast: exit 0 and a table on stdout
p = run(["ood", "--id", good, "--ood", write("good2.csv", "0.5\n2.5\n1\n")])
if p.returncode != 0 or "AUROC" not in p.stdout:
    failures.append("good run: exit %d, %s" % (p.returncode, p.stderr))

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("logitnorm-eval: %d bad files, %d usage errors and --help (%d options) behave"
      % (len(bad_files) * 2 + len(bad_logits) + len(bad_selective) + len(bad_calibration), len(usage_cases), len(accepted)))
