#!/usr/bin/env python3
"""Derives the simulator acceptor's FIX 4.4 dictionary (data/fix/FIX44-sim.xml) from QuickFIX's
data/fix/FIX44.xml.

Why: QuickFIX validates incoming application messages against its dictionary before the
application sees them and answers failures with session-level Rejects (35=3) whose text is generic
("Required tag missing", "Value is incorrect"); without a dictionary it cannot parse repeating
groups at all (a MarketDataRequest's repeated 269/55 is refused as "Tag appears more than once").
The acceptor wants QuickFIX to parse groups but to leave field validation to src/fix/codec.cpp,
which names the tag and what is wrong. So, for application messages only:
  * every field, component and group member becomes optional (required="N");
  * fields that appear in no header/trailer/admin message lose their enum values and become
    STRING typed (the codec checks values and formats); group counts stay NUMINGROUP.
Header, trailer and admin messages (Logon, Heartbeat, ...) are unchanged.

usage: tools/fix/relax_dictionary.py data/fix/FIX44.xml data/fix/FIX44-sim.xml
"""
import sys
import xml.etree.ElementTree as ET


def field_names(node, comps, out):
    for c in node:
        if c.tag == "field":
            out.add(c.get("name"))
        elif c.tag == "group":
            out.add(c.get("name"))
            field_names(c, comps, out)
        elif c.tag == "component":
            field_names(comps[c.get("name")], comps, out)


def relax_required(node):
    for c in node.iter():
        if c.get("required") is not None:
            c.set("required", "N")


def main(src, dst):
    tree = ET.parse(src)
    root = tree.getroot()
    comps = {c.get("name"): c for c in root.find("components")}
    keep = set()
    field_names(root.find("header"), comps, keep)
    field_names(root.find("trailer"), comps, keep)
    app_components = set()
    for m in root.find("messages"):
        if m.get("msgcat") == "admin":
            field_names(m, comps, keep)
            continue
        relax_required(m)
        for c in m.iter("component"):
            app_components.add(c.get("name"))
    # Components used by application messages (and the components they use).
    changed = True
    while changed:
        changed = False
        for name in list(app_components):
            for c in comps[name].iter("component"):
                if c.get("name") not in app_components:
                    app_components.add(c.get("name"))
                    changed = True
    for name in app_components:
        relax_required(comps[name])
    for f in root.find("fields"):
        if f.get("name") in keep or f.get("type") == "NUMINGROUP":  # group counts drive group parsing
            continue
        f.set("type", "STRING")
        for v in list(f):
            f.remove(v)
    tree.write(dst, encoding="utf-8", xml_declaration=False)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
