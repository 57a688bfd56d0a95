#!/usr/bin/python3
"""Render many LVS configs with Octavia's own LvsJinjaTemplater in one process.

Reads a JSON list of specs (the format test/support/octavia-render.py takes for kind "lvs", all
with the same base_path) on stdin and prints a JSON list of the rendered texts, in order.
Importing Octavia costs about 3 s here, so the healthcheck_cpu suite's 55 listeners are
rendered by one process instead of 55.
"""
import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RENDER = os.path.join(HERE, '..', '..', 'test', 'support', 'octavia-render.py')


def main():
    specs = json.load(sys.stdin)
    loader = importlib.util.spec_from_file_location('octavia_render', RENDER)
    mod = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(mod)
    mod.CONF(args=[], project='octavia', default_config_files=[], default_config_dirs=[])
    bases = {s.get('base_path') for s in specs}
    if len(bases) != 1:
        sys.exit('every spec must have the same base_path, got %r' % sorted(map(str, bases)))
    base = bases.pop()
    if base:
        mod.CONF.set_override('base_path', base, group='haproxy_amphora')
    out = []
    for spec in specs:
        if spec.get('kind') != 'lvs':
            sys.exit('only kind "lvs" is rendered here, got %r' % spec.get('kind'))
        text = mod.render_lvs(spec)
        out.append(text if text.endswith('\n') else text + '\n')
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
