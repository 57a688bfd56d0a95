"""Records what Octavia master's nftable_utils.write_nftable_rules_file writes for cases.json.

Usage: /usr/bin/python3 record.py <master nftable_utils.py> <master common/constants.py>
(e.g. from `git -C <octavia mirror> show HEAD:octavia/...`). Writes base.nft and <case>.nft here.
Runs master's own function text; its constants come from master's constants.py (executed, with
NFT_RULES_FILE pointed at a temporary file), its other imports are those installed with Octavia
11 (python3-octavia). src/render/nft-rules.test.ts compares our renderer with the recorded
files and the integration tier loads both into the kernel; run this again when master's
nftable_utils.py changes.
"""
import json
import os
import sys
import tempfile
import types

here = os.path.dirname(os.path.abspath(__file__))
utils_src, consts_src = sys.argv[1], sys.argv[2]
rules_file = os.path.join(tempfile.mkdtemp(), 'nftables-vip.rules')

consts = types.ModuleType('octavia.common.constants')
exec(compile(open(consts_src).read(), consts_src, 'exec'), consts.__dict__)
consts.NFT_RULES_FILE = rules_file
sys.modules['octavia.common.constants'] = consts
import octavia.common  # noqa: E402  (the installed package, whose constants module is replaced)
octavia.common.constants = consts

nft = types.ModuleType('nftable_utils')
exec(compile(open(utils_src).read(), utils_src, 'exec'), nft.__dict__)


def read():
    with open(rules_file) as f:
        return f.read()


nft.write_nftable_rules_file('eth1', [])
with open(os.path.join(here, 'base.nft'), 'w') as out:
    out.write(read())
for case in json.load(open(os.path.join(here, 'cases.json'))):
    nft.write_nftable_rules_file('eth1', case['rules'])
    with open(os.path.join(here, case['name'] + '.nft'), 'w') as out:
        out.write(read())
    print(case['name'], oct(os.stat(rules_file).st_mode & 0o777))
