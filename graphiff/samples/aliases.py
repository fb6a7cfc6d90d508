"""Alias worlds for entity resolution (``graphiff samples --aliases``): the same trader, person,
carrier or bank account under other ids and spellings, across administrations.

In the plain world every record names its parties by one global id. In an alias world each
administration (the ``reporting_country`` of a declaration) records FOREIGN parties under
its own ids, spelled its own way, with identifiers only sometimes:

- traders: the foreign party of a declaration (the importer of an export, the exporter of an
  import) is, for 85 % of the (administration, trader) pairs, named by the administration's
  own id ``{R}-X{n:06d}`` and a name variant (the same one every time); each alias has a row
  in ``traders.csv`` (the administration's register of foreign traders) with the true country
  and, sometimes, the TIN, a reformatted address, city, postcode, phone and e-mail;
- persons: 20 % of the persons of cash reports (and some couriers of planted cash
  structuring) are known to a second administration under ``{R}-P{n:06d}`` with another
  passport, a name variant and about half of their cash reports;
- carriers: a foreign carrier is, for half of the (administration, carrier) pairs, named
  ``{R}-C{n:05d}`` with a name variant;
- bank accounts: 5 % of the IBAN accounts that take part in payments are given by their
  national number (the BBAN: the IBAN without its first four characters) in 30 % of their
  payments;
- decoys that must not be linked: companies with a name one word away in the same city,
  persons with exactly the same name, junk and placeholder TINs, names that are only a legal
  form.

:class:`Aliases` rewrites the world as it is written (the background chunk by chunk: an
alias, its number and its spelling are decided when its (administration, party) pair is first
seen, from streams read in record order, so a seed gives the same world) and lists the truth: ``truth.json``'s
``"resolution"`` (:meth:`Aliases.truth`). Only party ids and names change in declarations
(and the carrier id and name), so mirror pairs keep their transport documents and invoices.
Every draw comes from ``ctx.rng("aliases/...")`` streams and every serial is taken after the
plain world's, so the plain world is the same with or without this pass.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from graphiff.samples import ids, rows
from graphiff.samples.context import Ctx
from graphiff.samples.entities import person_frame, trader_frame
from graphiff.samples.planter import Planter
from graphiff.samples.reference import COUNTRIES, CUR_INDEX, DAYS
from graphiff.samples.spellings import address_variant, name_variants, phone_variant

#: administrations (reporting countries) in a fixed order: the alias tables are indexed by it
ADMINS = np.array(list(COUNTRIES), dtype=object)
P_TRADER = 0.85     # per (administration, foreign trader)
P_CARRIER = 0.5     # per (administration, foreign carrier)
P_PERSON = 0.2      # per person of the cash reports
P_ACCOUNT = 0.05    # per IBAN account taking part in payments
P_BBAN = 0.3        # per payment end naming such an account
P_DECOY_TRADER = 0.03
JUNK_TINS = ("0", "N/A", "000000000", "NONE", "-")
PLACEHOLDER_TIN = "123456789"
#: names of alias records that are only a legal form (one per company, different countries)
LEGAL_ONLY = ("LTD", "CO LTD", "LIMITED", "SA", "LTD", "LIMITED")

class _Register:
    """The aliases of one kind of party, decided per (administration, party) pair when the pair
    is first seen: a dense table ``state[admin * n + row]`` (-2 unseen, -1 no alias, else the
    alias number), serials counted per administration."""

    def __init__(self, keys: np.ndarray, names: np.ndarray, *, p: float, tag: str, width: int,
                 decide: np.random.Generator, spell: np.random.Generator) -> None:
        self.index = pd.Index(keys)
        self.n = len(keys)
        self.names = np.asarray(names, dtype=object)
        self.p, self.tag, self.width = p, tag, width
        self.decide, self.spell = decide, spell
        self.state = np.full(len(ADMINS) * self.n, -2, dtype=np.int64)
        self.counter = np.zeros(len(ADMINS), dtype=np.int64)
        self.row = np.empty(0, dtype=np.int64)
        self.admin = np.empty(0, dtype=np.int64)
        self.ids = np.empty(0, dtype=object)
        self.variant = np.empty(0, dtype=object)

    def lookup(self, party: np.ndarray, admin: np.ndarray, foreign: np.ndarray) -> np.ndarray:
        """The alias number of each record's party (-1: named by its own id), deciding new pairs."""
        row = self.index.get_indexer(party)
        ok = foreign & (row >= 0) & (admin >= 0)
        pair = admin[ok].astype(np.int64) * self.n + row[ok]
        seen = pd.unique(pair)  # in order of first appearance
        new = seen[self.state[seen] == -2]
        if len(new):
            self._add(new)
        out = np.full(len(party), -1, dtype=np.int64)
        out[ok] = self.state[pair]
        return out

    def _add(self, new: np.ndarray) -> None:
        yes = self.decide.random(len(new)) < self.p
        self.state[new[~yes]] = -1
        pair = new[yes]
        adm, row = pair // self.n, pair % self.n
        num = np.empty(len(pair), dtype=np.int64)
        for a in np.unique(adm):
            m = adm == a
            k = int(m.sum())
            num[m] = self.counter[a] + 1 + np.arange(k)
            self.counter[a] += k
        self.state[pair] = len(self.ids) + np.arange(len(pair))
        alias = (pd.Series(ADMINS[adm], dtype=object) + self.tag + ids.zfill(num, self.width)).to_numpy(dtype=object)
        self.row = np.concatenate([self.row, row])
        self.admin = np.concatenate([self.admin, adm])
        self.ids = np.concatenate([self.ids, alias])
        self.variant = np.concatenate([self.variant, name_variants(self.names[row], self.spell)])

    def clusters(self, keys: np.ndarray) -> list[list[str]]:
        """[canonical id, its aliases in order of creation] per party with an alias."""
        order = np.argsort(self.row, kind="stable")
        rows_, first = np.unique(self.row[order], return_index=True)
        groups = np.split(self.ids[order], first[1:])
        return [[str(keys[r]), *map(str, g)] for r, g in zip(rows_, groups)]


def _admin_codes(values: np.ndarray) -> np.ndarray:
    return pd.Categorical(values, categories=ADMINS).codes.astype(np.int64)


class Aliases:
    """The alias pass of a world being written (see the module docstring).

    Made after the planted entities are built (``Planter.finish``) and before the background;
    then :meth:`records` rewrites each batch of declarations and payments as it is written,
    :meth:`decoy_records` adds the records of the look-alike decoy traders (after all the
    others), :meth:`cash_reports` rewrites the cash reports, :meth:`entity_rows` gives the
    alias and decoy rows of the entity files, :meth:`truth` and :meth:`summary` what was done.

    Parameters
    ----------
    ctx : Ctx
        The world's context (entities built).
    planter : Planter
        The planter, finished (its cash-structuring instances and planted payments are read).

    Notes
    -----
    Cost: linear in the records; the first sight of an (administration, party) pair costs a
    name variant (about ten microseconds). A world of a million declaration rows (about
    440,000 trader aliases) takes about ten seconds more CPU time, writing included.
    """

    def __init__(self, ctx: Ctx, planter: Planter) -> None:
        self.ctx = ctx
        self.planter = planter
        t = ctx.traders
        self.traders = _Register(t["trader_id"].to_numpy(dtype=object), t["name"].to_numpy(dtype=object),
                                 p=P_TRADER, tag="-X", width=6, decide=ctx.rng("aliases/traders"),
                                 spell=ctx.rng("aliases/traders/names"))
        assert ctx.carriers is not None  # built with the entities
        c = ctx.carriers
        self.carrier_country = c["country"].to_numpy(dtype=object)
        self.carriers = _Register(c["carrier_id"].to_numpy(dtype=object), c["name"].to_numpy(dtype=object),
                                  p=P_CARRIER, tag="-C", width=5, decide=ctx.rng("aliases/carriers"),
                                  spell=ctx.rng("aliases/carriers/names"))
        self.trader_country = t["country"].to_numpy(dtype=object)
        self.legal_only: list[int] = []  # trader alias numbers named only by a legal form
        self._legal_checked = 0
        self.bban = self._choose_accounts()
        self.pay_rng = ctx.rng("aliases/payments")
        self.decoy_traders = pd.DataFrame()
        self.decoy_pairs: list[dict] = []
        self.person_rows = pd.DataFrame()
        self.person_clusters: list[list[str]] = []
        self.decoy_persons = pd.DataFrame()

    # ---- declarations and payments ------------------------------------------------------
    def records(self, decl: pd.DataFrame | None,
                pay: pd.DataFrame | None) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        """Declarations with foreign parties and carriers under the reporting administration's
        ids and spellings; payments naming some accounts by their BBAN.

        Parameters
        ----------
        decl, pay : DataFrame or None
            Declaration and payment rows (canonical columns), as written.

        Returns
        -------
        tuple
            The rewritten frames (new frames; the same rows in the same order). Cost: linear in
            the rows.
        """
        return self._declarations(decl), self._payments(pay)

    def _declarations(self, decl: pd.DataFrame | None) -> pd.DataFrame | None:
        if decl is None or not len(decl):
            return decl
        d = decl.copy()
        rep = d["reporting_country"].to_numpy(dtype=object)
        admin = _admin_codes(rep)
        reg = self.traders
        found = {}
        for side in ("exporter", "importer"):
            party = d[f"{side}_id"].to_numpy(dtype=object)
            foreign = d[f"{side}_country"].to_numpy(dtype=object) != rep
            found[side] = reg.lookup(party, admin, foreign)
        self._name_legal_only()
        for side, k in found.items():
            has = k >= 0
            if has.any():
                for col, table in (("id", reg.ids), ("name", reg.variant)):
                    vals = d[f"{side}_{col}"].to_numpy(dtype=object).copy()
                    vals[has] = table[k[has]]
                    d[f"{side}_{col}"] = vals
        cid = d["carrier_id"].fillna("").to_numpy(dtype=object)
        crow = self.carriers.index.get_indexer(cid)
        foreign = (crow >= 0) & (self.carrier_country[np.maximum(crow, 0)] != rep)
        k = self.carriers.lookup(cid, admin, foreign)
        has = k >= 0
        if has.any():
            for col, table in (("carrier_id", self.carriers.ids), ("carrier_name", self.carriers.variant)):
                vals = d[col].to_numpy(dtype=object).copy()
                vals[has] = table[k[has]]
                d[col] = vals
        return d

    def _name_legal_only(self) -> None:
        """Name the first few trader aliases of distinct companies in distinct countries only by
        a legal form (sloppy data entry that must never link by itself)."""
        reg = self.traders
        if len(self.legal_only) >= len(LEGAL_ONLY):
            return
        used_rows = {int(reg.row[k]) for k in self.legal_only}
        used_cty = {self.trader_country[r] for r in used_rows}
        for k in range(self._legal_checked, len(reg.ids)):
            r = int(reg.row[k])
            if r in used_rows or self.trader_country[r] in used_cty:
                continue
            reg.variant[k] = LEGAL_ONLY[len(self.legal_only)]
            self.legal_only.append(k)
            used_rows.add(r)
            used_cty.add(self.trader_country[r])
            if len(self.legal_only) >= len(LEGAL_ONLY):
                break
        self._legal_checked = len(reg.ids)

    def _choose_accounts(self) -> dict[str, str]:
        """IBAN -> BBAN of the accounts some payments give by their national number: 5 % (at
        least 3) of the IBAN accounts that are a background trader's main account (the
        background's payments go between them) or take part in several planted payments (an
        account seen once would rarely show its national number)."""
        ctx, rng = self.ctx, self.ctx.rng("aliases/accounts")
        a = ctx.accounts
        acct = a["account_id"].to_numpy(dtype=object)
        t = ctx.traders
        active = set(t["_acct"][t["_tier"] >= 0].dropna())
        ends = pd.Series([p[k] for p in self.planter.pays for k in ("frm", "to")], dtype=object).value_counts()
        active |= set(ends.index[ends.to_numpy() >= 3])
        iban_cty = {c for c, v in COUNTRIES.items() if v[2]}
        known = set(acct)
        pool = np.array([x for x in acct if x in active and x[:2] in iban_cty and x[4:] not in known
                         and x[2:4].isdigit()], dtype=object)
        if not len(pool):
            return {}
        pick = pool[rng.random(len(pool)) < P_ACCOUNT]
        if len(pick) < 3:
            pick = pool[np.sort(rng.choice(len(pool), min(3, len(pool)), replace=False))]
        return {str(x): str(x)[4:] for x in pick}

    def _payments(self, pay: pd.DataFrame | None) -> pd.DataFrame | None:
        if pay is None or not len(pay) or not self.bban:
            return pay
        p = pay.copy()
        for col in ("from_account", "to_account"):
            s = p[col]
            u = self.pay_rng.random(len(p))
            m = s.isin(self.bban.keys()).to_numpy() & (u < P_BBAN)
            if m.any():
                vals = s.to_numpy(dtype=object).copy()
                vals[m] = s[m].map(self.bban).to_numpy(dtype=object)
                p[col] = vals
        return p

    # ---- decoy traders ------------------------------------------------------------------
    def decoy_records(self) -> tuple[pd.DataFrame, None]:
        """New traders whose name differs from a trader's in one meaningful word, in the same
        city (3 % of the traders, at least 10), added to ``ctx.traders`` with one to three
        export declarations each (like the background's: to a trader of a higher tier in
        another country, goods of the original's lines). Call after every other record is
        built (it takes shipment and container serials).

        Returns
        -------
        tuple
            (declaration rows, None: no payments). Cost: linear in the decoys.
        """
        ctx, rng = self.ctx, self.ctx.rng("aliases/decoy_traders")
        t = ctx.traders
        tier = t["_tier"].to_numpy()
        tid = t["trader_id"].to_numpy(dtype=object)
        cty = t["country"].to_numpy(dtype=object)
        pool = np.flatnonzero((tier >= 0) & (tier <= 2))
        n = min(len(pool), max(10, int(round(P_DECOY_TRADER * len(t)))))
        orig = np.sort(rng.choice(pool, n, replace=False))
        taken = set(t["name"])
        names = []
        for r in orig:
            s = int(ids.scramble(int(str(tid[r])[2:]), 5, salt=23))
            a, b, c = s % 50, (s // 50) % 50, (s // 2500) % 40
            suffix = ids.SUFFIX.get(str(cty[r]), "Ltd")
            while True:  # another single-word industry, or another word
                c2, b2 = (c + int(rng.integers(1, 40))) % 40, b
                if " " in ids.INDUSTRIES[c] or " " in ids.INDUSTRIES[c2] or rng.random() < 0.3:
                    c2, b2 = c, (b + int(rng.integers(1, 50))) % 50
                name = f"{ids.PLACES[a]} {ids.WORDS[b2]} {ids.INDUSTRIES[c2]} {suffix}"
                if name not in taken:
                    break
            taken.add(name)
            names.append(name)
        f = trader_frame(ctx, rng, cty[orig], reg_day=rng.integers(-365 * 20, -365 * 3, n),
                         employees=rng.integers(10, 300, n), tier=tier[orig],
                         city=t["city"].to_numpy(dtype=object)[orig])
        f["name"] = np.array(names, dtype=object)
        f["_weight"], f["_acct"] = 0.0, None
        for col in ("_l0", "_l1", "_l2", "_c0", "_c1"):
            f[col] = t[col].to_numpy()[orig]
        f["_tier"] = -1  # never drawn by anything else
        base = len(t)
        ctx.traders = pd.concat([t, f], ignore_index=True)
        self.decoy_traders = f
        for r, new in zip(orig, f["trader_id"].to_numpy(dtype=object)):
            self.decoy_pairs.append({"label": "Trader", "ids": [str(tid[r]), str(new)],
                                     "kind": "similar_name_same_city"})
        # their shipments
        k = rng.integers(1, 4, n)
        exp = np.repeat(base + np.arange(n), k)
        src = np.repeat(orig, k)
        m = len(exp)
        imp = np.full(m, -1, dtype=np.int64)
        key = pd.Series(tier[src].astype(str)) + "/" + pd.Series(cty[src], dtype=object)
        for kk in sorted(set(key)):  # one pool per (tier, country)
            at = np.flatnonzero((key == kk).to_numpy())
            cand = np.flatnonzero((tier > tier[src[at[0]]]) & (cty != cty[src[at[0]]]))
            if len(cand):
                imp[at] = cand[rng.integers(0, len(cand), len(at))]
        lines = t[["_l0", "_l1", "_l2"]].to_numpy()[src, rng.integers(0, 3, m)]
        price = ctx.catalog.price[lines]
        spec = pd.DataFrame({
            "sid": ctx.serial.take("shipment", m), "exp": exp, "imp": imp, "hs": lines, "day": rng.integers(0, DAYS, m),
            "mass": np.exp(rng.normal(np.log(30_000 / price), 0.9)),
            "pf": np.exp(np.clip(rng.normal(0.0, 0.25, m), -0.6, 0.6)),
            "carrier": t["_c0"].to_numpy()[src], "cur_e": CUR_INDEX["USD"], "cur_i": CUR_INDEX["USD"]})
        spec = rows.spec(spec[spec["imp"] >= 0].to_dict("records"))
        return rows.declarations(ctx, spec, rng), None

    # ---- persons --------------------------------------------------------------------------
    def cash_reports(self, cash: pd.DataFrame) -> pd.DataFrame:
        """Cash reports with some persons named by a second administration's id and spelling,
        plus the reports of the same-name decoy persons.

        A person of the reports is aliased with probability 0.2 (couriers of about half of the
        planted cash-structuring instances, at least one, always); the second administration
        is the other country of the person's first border report (else a random country other
        than the nationality); about half of the person's reports (at least one, never all when
        there are two or more) name the alias id and its ``person_name``.

        Parameters
        ----------
        cash : DataFrame
            Every cash report (canonical columns).

        Returns
        -------
        DataFrame
            The rewritten reports, the decoys' reports appended. Cost: linear in the reports.
        """
        ctx, rng = self.ctx, self.ctx.rng("aliases/persons")
        c = cash.copy()
        pid = c["person_id"].fillna("").to_numpy(dtype=object)
        seen = pd.unique(pid[pid != ""])
        chosen = set(seen[rng.random(len(seen)) < P_PERSON].tolist())
        structuring = [i for i in self.planter.instances if i["family"] == "cash_structuring"]
        forced = [i["entities"][int(rng.integers(0, len(i["entities"])))]["id"] for i in structuring
                  if rng.random() < 0.5]
        if structuring and not forced:
            forced = [structuring[0]["entities"][0]["id"]]
        chosen |= set(forced)
        order = [p for p in seen if p in chosen]
        persons = ctx.persons.set_index("person_id")
        nat = persons["nationality"].reindex(order).to_numpy(dtype=object)
        # the second administration: the other country of the first border report
        other = np.where(c["direction"].to_numpy(dtype=object) == "IN", c["origin_country"].to_numpy(dtype=object),
                         c["destination_country"].to_numpy(dtype=object))
        first_other = (pd.Series(other, index=pid)[(other != "") & pd.Series(pid).isin(chosen).to_numpy()]
                       .groupby(level=0, sort=False).first())
        admin = first_other.reindex(order).to_numpy(dtype=object)
        regional = np.array(["KE", "UG", "TZ", "AE", "CN", "IN", "ZA", "GB"], dtype=object)
        for j in np.flatnonzero(pd.isna(admin) | (admin == nat)):
            opts = regional[regional != nat[j]]
            admin[j] = opts[rng.integers(0, len(opts))]
        num = np.empty(len(order), dtype=np.int64)
        counter: dict[str, int] = {}
        for i, a in enumerate(admin):
            counter[a] = counter.get(a, 0) + 1
            num[i] = counter[a]
        alias = (pd.Series(admin, dtype=object) + "-P" + ids.zfill(num, 6)).to_numpy(dtype=object)
        canon_names = persons["name"].reindex(order).to_numpy(dtype=object)
        variants = name_variants(canon_names, rng, person=True)
        # which reports name the alias: about half of each person's, at least one, not all of two or more
        of = pd.Series(pid).map(dict(zip(order, range(len(order))))).to_numpy()
        mine = ~pd.isna(of)
        idx = np.flatnonzero(mine)
        who = of[idx].astype(np.int64)
        sel = rng.random(len(idx)) < 0.5
        g = pd.DataFrame({"who": who, "sel": sel, "pos": np.arange(len(idx))})
        total = g.groupby("who")["sel"].transform("size").to_numpy()
        picked = g.groupby("who")["sel"].transform("sum").to_numpy()
        firsts = ~g.duplicated("who", keep="first").to_numpy()
        lasts = ~g.duplicated("who", keep="last").to_numpy()
        sel = np.where((total >= 2) & (picked == total) & firsts, False, sel)
        sel = np.where((total >= 2) & (picked == 0) & lasts, True, sel)
        rewrite = idx[sel]
        for col, table in (("person_id", alias), ("person_name", variants)):
            vals = c[col].to_numpy(dtype=object).copy()
            vals[rewrite] = table[of[rewrite].astype(np.int64)]
            c[col] = vals
        # the alias rows of persons.csv
        n = len(order)
        u = rng.random((n, 2))
        birth = persons["birth_date"].reindex(order).to_numpy(dtype=object)
        serial = ctx.serial.take("person_alias", n)
        self.person_rows = pd.DataFrame({
            "person_id": alias, "name": variants, "birth_date": np.where(u[:, 0] < 0.9, birth, ""),
            "nationality": np.where(u[:, 1] < 0.7, nat, ""),
            "passport_no": (pd.Series(np.array(list("DEFGHJ"), dtype=object)[serial % 6])
                            + ids.zfill(ids.scramble(serial, 8, salt=97), 8)).to_numpy(dtype=object)})
        self.person_clusters = [[str(p), str(a)] for p, a in zip(order, alias)]
        return pd.concat([c, self._decoy_person_reports(cash)], ignore_index=True)

    def _decoy_person_reports(self, cash: pd.DataFrame) -> pd.DataFrame:
        """Persons with exactly the name of a person of the cash reports, another birth date and
        passport (at least 10; 20 per scale unit), one or two reports each, amounts far from
        the 10,000 USD threshold; and the same-name pairs the world already has."""
        ctx, rng = self.ctx, self.ctx.rng("aliases/decoy_persons")
        p = ctx.persons
        in_cash = set(cash["person_id"])
        pool = np.flatnonzero(p["person_id"].isin(in_cash).to_numpy())
        n = min(len(pool), ctx.count(20, 10))
        orig = np.sort(rng.choice(pool, n, replace=False))
        nat = p["nationality"].to_numpy(dtype=object)[orig]
        f = person_frame(ctx, rng, nat)
        f["name"] = p["name"].to_numpy(dtype=object)[orig]
        f["email"] = ids.emails(f["name"].str.split(" ").str[0].to_numpy(),
                                f["person_id"].str.slice(1).astype(int).to_numpy(), "post.example")
        birth = pd.to_datetime(p["birth_date"].to_numpy()[orig])
        same = f["birth_date"].to_numpy(dtype=object) == p["birth_date"].to_numpy(dtype=object)[orig]
        f.loc[same, "birth_date"] = (birth[same] + pd.Timedelta(days=400)).strftime("%Y-%m-%d")
        self.decoy_persons = f
        pid = p["person_id"].to_numpy(dtype=object)
        for r, new in zip(orig, f["person_id"].to_numpy(dtype=object)):
            self.decoy_pairs.append({"label": "Person", "ids": [str(pid[r]), str(new)], "kind": "common_person_name"})
        # same-name pairs already in the world (different birth dates), at most 100
        dup = p[p.duplicated("name", keep=False)].sort_values(["name", "person_id"]).groupby("name").head(2)
        a, b = dup.iloc[0::2], dup.iloc[1::2]
        differ = a["birth_date"].to_numpy(dtype=object) != b["birth_date"].to_numpy(dtype=object)
        for x, y in list(zip(a["person_id"].to_numpy(dtype=object)[differ],
                             b["person_id"].to_numpy(dtype=object)[differ]))[:100]:
            self.decoy_pairs.append({"label": "Person", "ids": [str(x), str(y)], "kind": "common_person_name"})
        k = rng.integers(1, 3, n)
        who = np.repeat(np.arange(n), k)
        m = len(who)
        wn = nat[who]
        low = rng.random(m) < 0.55
        out = rng.random(m) < 0.5
        border = rng.random(m) < 0.6
        others = np.where(wn == "AE", "KE", "AE")
        spec = pd.DataFrame({
            "rid": ctx.serial.take("cash", m), "rtype": np.where(border, "BORDER", "CTR"),
            "day": rng.integers(0, DAYS, m),
            "usd": np.round(np.where(low, rng.uniform(300, 5000, m),
                                     np.exp(rng.uniform(np.log(15_000), np.log(120_000), m))), 2),
            "cur": CUR_INDEX["USD"], "person_id": f["person_id"].to_numpy(dtype=object)[who],
            "person_name": f["name"].to_numpy(dtype=object)[who], "trader_id": "", "account_id": "",
            "direction": np.where(out, "OUT", "IN"),
            "location": np.where(border, [COUNTRIES[x][3][0] + " airport" for x in wn],
                                 "Bank branch, " + pd.Series(wn).astype(str)),
            "origin": np.where(border, np.where(out, wn, others), ""),
            "destination": np.where(border, np.where(out, others, wn), ""), "narrative": ""})
        return rows.cash_reports(ctx, spec)

    # ---- entity files ---------------------------------------------------------------------
    def entity_rows(self) -> dict[str, pd.DataFrame]:
        """The rows the entity files gain: each administration's register of foreign traders and
        carriers (one row per alias), the persons' alias rows and the same-name decoy persons,
        the accounts' BBAN rows. Call after :meth:`cash_reports`.

        Returns
        -------
        dict
            ``{"traders": ..., "persons": ..., "carriers": ..., "accounts": ...}`` (canonical
            columns; absent ones are written empty). Cost: linear in the aliases.
        """
        return {"traders": self._trader_rows(), "persons": pd.concat([self.person_rows, self.decoy_persons],
                                                                     ignore_index=True),
                "carriers": self._carrier_rows(), "accounts": self._account_rows()}

    def _trader_rows(self) -> pd.DataFrame:
        ctx, rng = self.ctx, self.ctx.rng("aliases/trader_rows")
        reg, t = self.traders, self.ctx.traders
        row = reg.row
        n = len(row)

        def col(name: str) -> np.ndarray:
            return t[name].to_numpy(dtype=object)[row]

        u = rng.random((n, 9))
        cty = col("country")
        junk = np.array(JUNK_TINS, dtype=object)[rng.integers(0, len(JUNK_TINS), n)]
        tin = np.where(u[:, 0] < 0.4, col("tin"), np.where(u[:, 0] < 0.48, junk, ""))
        # the placeholder TIN on max(10, 200 x scale) rows of different companies (rows without a TIN)
        free = pd.Series(row)[(tin == "")].drop_duplicates()
        n_ph = min(len(free), max(10, int(round(200 * ctx.scale))))
        ph = np.sort(rng.choice(free.index.to_numpy(), n_ph, replace=False))
        tin[ph] = PLACEHOLDER_TIN
        has_addr = u[:, 1] < 0.35
        addr = col("address")
        address = np.array([address_variant(a, x, y) if h else "" for a, x, y, h in
                            zip(addr, u[:, 2], u[:, 3], has_addr)], dtype=object)
        city = np.where(u[:, 4] < 0.6, col("city"), "")
        phone = col("phone")
        phones = np.array([phone_variant(ph_, c_, x) if h else "" for ph_, c_, x, h in
                           zip(phone, cty, u[:, 6], u[:, 5] < 0.3)], dtype=object)
        email = col("email")
        emails = np.where(u[:, 7] < 0.2, np.where(u[:, 8] < 0.5, pd.Series(email).str.upper(), email), "")
        out = pd.DataFrame({"trader_id": reg.ids, "name": reg.variant, "country": cty, "tin": tin,
                            "address": address, "city": city,
                            "postcode": np.where(has_addr, col("postcode"), ""), "phone": phones, "email": emails})
        self._tin_decoys(out, row)
        return out

    def _tin_decoys(self, out: pd.DataFrame, row: np.ndarray) -> None:
        """Representative pairs of different companies sharing a junk or placeholder TIN, and the
        pairs of legal-form-only names."""
        tin = out["tin"].to_numpy(dtype=object)
        aid = out["trader_id"].to_numpy(dtype=object)
        for value, kind, k in [(PLACEHOLDER_TIN, "placeholder_tin", 10)] + [(j, "junk_tin", 3) for j in JUNK_TINS]:
            hit = np.flatnonzero(tin == value)
            firsts = pd.Series(row[hit]).drop_duplicates().index.to_numpy()
            hit = hit[firsts]
            for a, b in list(zip(hit[0::2], hit[1::2]))[:k]:
                self.decoy_pairs.append({"label": "Trader", "ids": [str(aid[a]), str(aid[b])], "kind": kind})
        legal = self.legal_only
        for i in range(len(legal)):
            for j in range(i + 1, len(legal)):
                self.decoy_pairs.append({"label": "Trader", "ids": [str(aid[legal[i]]), str(aid[legal[j]])],
                                         "kind": "legal_form_only"})

    def _carrier_rows(self) -> pd.DataFrame:
        rng = self.ctx.rng("aliases/carrier_rows")
        reg = self.carriers
        assert self.ctx.carriers is not None
        c = self.ctx.carriers
        row = reg.row
        n = len(row)
        u = rng.random((n, 3))
        cty = c["country"].to_numpy(dtype=object)[row]
        phone = c["phone"].to_numpy(dtype=object)[row]
        return pd.DataFrame({
            "carrier_id": reg.ids, "name": reg.variant, "country": cty,
            "carrier_type": c["carrier_type"].to_numpy(dtype=object)[row],
            "phone": np.array([phone_variant(p, x, v) if h else "" for p, x, v, h in
                               zip(phone, cty, u[:, 1], u[:, 0] < 0.4)], dtype=object),
            "tin": np.where(u[:, 2] < 0.4, c["tin"].to_numpy(dtype=object)[row], "")})

    def _account_rows(self) -> pd.DataFrame:
        a = self.ctx.accounts
        a = a[a["account_id"].isin(self.bban.keys())]
        return pd.DataFrame({"account_id": a["account_id"].map(self.bban).to_numpy(dtype=object),
                             "holder_id": a["holder_id"].to_numpy(dtype=object),
                             "bank_name": a["bank_name"].to_numpy(dtype=object), "bic": a["bic"].to_numpy(dtype=object),
                             "bank_country": a["bank_country"].to_numpy(dtype=object)})

    # ---- truth ----------------------------------------------------------------------------
    def truth(self) -> dict:
        """``truth.json``'s ``"resolution"``: the clusters (every id of one real entity,
        canonical id first, clusters of two ids or more) per label and the decoy pairs that must
        not be linked. Call after :meth:`entity_rows`.

        Returns
        -------
        dict
            ``{"clusters": {"Trader": [[ids...], ...], "Person": ..., "Carrier": ...,
            "BankAccount": ...}, "decoys": [{"label", "ids", "kind"}, ...]}``.
        """
        assert self.ctx.carriers is not None
        return {"clusters": {
            "Trader": self.traders.clusters(self.ctx.traders["trader_id"].to_numpy(dtype=object)),
            "Person": self.person_clusters,
            "Carrier": self.carriers.clusters(self.ctx.carriers["carrier_id"].to_numpy(dtype=object)),
            "BankAccount": [[k, v] for k, v in sorted(self.bban.items())]},
            "decoys": self.decoy_pairs}

    def summary(self) -> dict[str, int]:
        """Alias records per label and the number of clusters (for the ``generate_world`` summary).

        Returns
        -------
        dict
            ``{"Trader": n, "Person": n, "Carrier": n, "BankAccount": n, "clusters": n}``: alias
            records written per label, clusters of two ids or more in all.
        """
        clusters = (len(np.unique(self.traders.row)) + len(self.person_clusters) + len(np.unique(self.carriers.row))
                    + len(self.bban))
        return {"Trader": len(self.traders.ids), "Person": len(self.person_rows), "Carrier": len(self.carriers.ids),
                "BankAccount": len(self.bban), "clusters": clusters}
