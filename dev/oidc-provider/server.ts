/**
 * Commy's local sign-in provider: a real OpenID Connect issuer (oidc-provider 9) for
 * development (`scripts/up`) and end-to-end tests. Never for production.
 *
 *   node --import tsx dev/oidc-provider/server.ts --port 4010 \
 *     --client-id commy-local --client-secret s3cret \
 *     --redirect-uri http://127.0.0.1:3000/api/auth/callback/oidc [--test-users]
 *
 * Flags fall back to env: OIDC_PORT, OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET,
 * OIDC_REDIRECT_URIS (comma-separated), OIDC_TEST_USERS=1. Once it listens it prints
 * `oidc-provider ready <issuer>` on stdout. Users: see accounts.ts and README.md here.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { parseArgs } from "node:util";
import Provider, { interactionPolicy, type Configuration, type KoaContextWithOIDC } from "oidc-provider";
import { authenticate, DEMO_USER, E2E_DOMAIN, E2E_PASSWORD, findLocalAccount } from "./accounts";

const { values: flags } = parseArgs({
  options: {
    port: { type: "string" },
    host: { type: "string" },
    issuer: { type: "string" },
    "client-id": { type: "string" },
    "client-secret": { type: "string" },
    "redirect-uri": { type: "string", multiple: true },
    "post-logout-redirect-uri": { type: "string", multiple: true },
    "test-users": { type: "boolean" },
    help: { type: "boolean" },
  },
});

if (flags.help) {
  console.log(
    "usage: server.ts --port N --client-id ID --client-secret SECRET --redirect-uri URI [--redirect-uri URI...]\n" +
      "                 [--issuer URL] [--post-logout-redirect-uri URI...] [--test-users]",
  );
  process.exit(0);
}

const host = flags.host ?? "127.0.0.1";
const port = Number(flags.port ?? process.env.OIDC_PORT ?? 4010);
const issuer = (flags.issuer ?? process.env.OIDC_LOCAL_ISSUER ?? `http://${host}:${port}`).replace(/\/$/, "");
const clientId = flags["client-id"] ?? process.env.OIDC_CLIENT_ID;
const clientSecret = flags["client-secret"] ?? process.env.OIDC_CLIENT_SECRET;
const redirectUris = flags["redirect-uri"] ?? (process.env.OIDC_REDIRECT_URIS ?? "").split(",").filter(Boolean);
const postLogoutRedirectUris =
  flags["post-logout-redirect-uri"] ?? redirectUris.map((u) => new URL(u).origin + "/");
const testUsers = flags["test-users"] ?? process.env.OIDC_TEST_USERS === "1";

if (!clientId || !clientSecret || redirectUris.length === 0) {
  console.error("oidc-provider: --client-id, --client-secret and at least one --redirect-uri are required (see --help)");
  process.exit(2);
}

// Signing key: generated per process. Tokens only live for one sign-in round trip (the app
// keeps its own database session), so nothing needs to survive a restart.
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "commy-local-1", use: "sig", alg: "RS256" };

// Single sign-on is deliberately off: the login prompt shows on every authorization request,
// so after signing out of the app you can sign in as someone else (and e2e tests that reuse a
// browser context get the user they ask for).
const policy = interactionPolicy.base();
policy.get("login")!.checks.add(
  new interactionPolicy.Check("login_each_time", "Sign in for each authorization request", (ctx: KoaContextWithOIDC) =>
    ctx.oidc.result?.login ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT,
  ),
);

const configuration: Configuration = {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      client_name: "Commy",
      redirect_uris: redirectUris,
      post_logout_redirect_uris: postLogoutRedirectUris,
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  jwks: { keys: [signingKey as never] },
  cookies: { keys: [randomBytes(32).toString("hex")] },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name"],
  },
  // next-auth v4 reads the profile from the ID token: put the scope's claims in it.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}`, policy },
  async findAccount(_ctx, sub) {
    const account = findLocalAccount(sub, { testUsers });
    if (!account) return undefined;
    return {
      accountId: account.sub,
      async claims() {
        return { sub: account.sub, email: account.email, email_verified: true, name: account.name };
      },
    };
  },
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 600,
    IdToken: 3600,
    Interaction: 3600,
    Session: 14 * 24 * 3600,
    Grant: 14 * 24 * 3600,
  },
  renderError(ctx, out) {
    ctx.type = "html";
    ctx.body = page(
      "Sign-in error",
      `<h1>Sign-in error</h1><p role="alert">${escapeHtml(String(out.error_description ?? out.error))}</p>` +
        `<p>Go back to the application and try again.</p>`,
    );
  },
};

const provider = new Provider(issuer, configuration);
provider.proxy = false;

// ---------------------------------------------------------------------------------------------
// Interactions: login form, automatic consent for our one first-party client
// ---------------------------------------------------------------------------------------------

const INTERACTION = /^\/interaction\/([\w-]+)(\/login|\/abort)?$/;

async function handleInteraction(req: IncomingMessage, res: ServerResponse, uid: string, action: string | undefined) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error("interaction mismatch");

  if (req.method === "GET" && !action) {
    if (details.prompt.name === "login") {
      const hint = typeof details.params.login_hint === "string" ? details.params.login_hint : "";
      return send(res, 200, loginPage(uid, { email: hint }));
    }
    // Consent: our only client is first-party, so grant what it asked for without a page.
    const { accountId } = details.session ?? {};
    if (!accountId) throw new Error("consent without a signed-in account");
    const grant = details.grantId
      ? (await provider.Grant.find(details.grantId))!
      : new provider.Grant({ accountId, clientId: details.params.client_id as string });
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  if (req.method === "POST" && action === "/login") {
    const form = new URLSearchParams(await readBody(req));
    const email = form.get("email") ?? "";
    const account = authenticate(email, form.get("password") ?? "", { testUsers });
    if (!account) {
      return send(res, 401, loginPage(uid, { email, error: "Wrong email or password. Check both and try again." }));
    }
    return provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
  }

  if (req.method === "POST" && action === "/abort") {
    return provider.interactionFinished(
      req,
      res,
      { error: "access_denied", error_description: "The user cancelled the sign-in." },
      { mergeWithLastSubmission: false },
    );
  }

  send(res, 405, page("Not allowed", "<h1>Method not allowed</h1>"));
}

function loginPage(uid: string, opts: { email?: string; error?: string }): string {
  const error = opts.error
    ? `<p id="login-error" class="error" role="alert">${escapeHtml(opts.error)}</p>`
    : `<p id="login-error" class="error" role="alert" hidden></p>`;
  const invalid = opts.error ? ` aria-invalid="true" aria-describedby="login-error"` : "";
  const testHint = testUsers
    ? `<li>any <code>name@${E2E_DOMAIN}</code> / <code>${E2E_PASSWORD}</code> (test mode)</li>`
    : "";
  return page(
    "Sign in · Commy Local",
    `<h1>Sign in to Commy Local</h1>
    <p class="sub">Local development identity provider</p>
    ${error}
    <form method="post" action="/interaction/${uid}/login" novalidate>
      <label for="email">Email</label>
      <input id="email" name="email" type="email" autocomplete="username" required autofocus
        value="${escapeHtml(opts.email ?? "")}"${invalid}>
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required${invalid}>
      <button type="submit">Sign in</button>
    </form>
    <form method="post" action="/interaction/${uid}/abort"><button type="submit" class="link">Cancel</button></form>
    <details><summary>Local accounts</summary><ul>
      <li><code>${DEMO_USER.email}</code> / <code>${DEMO_USER.password}</code></li>${testHint}
    </ul></details>`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: Canvas; }
  main { width: min(22rem, 92vw); padding: 2rem; border: 1px solid #8884; border-radius: 12px; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; } .sub { margin: 0 0 1.25rem; opacity: .7; font-size: .9rem; }
  label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
  input { width: 100%; box-sizing: border-box; padding: .55rem .6rem; font-size: 1rem; border: 1px solid #8888; border-radius: 6px; }
  input[aria-invalid="true"] { border-color: #d33; }
  button[type=submit] { margin-top: 1.25rem; width: 100%; padding: .6rem; font-size: 1rem; border: 0; border-radius: 6px; background: #2563eb; color: #fff; cursor: pointer; }
  button.link { background: none; color: inherit; text-decoration: underline; width: auto; margin-top: .75rem; padding: 0; font-size: .9rem; }
  .error { color: #c62828; background: #c6282814; padding: .5rem .75rem; border-radius: 6px; }
  details { margin-top: 1rem; font-size: .85rem; opacity: .85; }
  :focus-visible { outline: 3px solid #2563eb; outline-offset: 2px; }
</style></head>
<body><main>${body}</main></body></html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function send(res: ServerResponse, status: number, html: string): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "text/html; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.end(html);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
      if (body.length > 16_384) reject(new Error("body too large"));
    });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

// ---------------------------------------------------------------------------------------------
// HTTP server
// ---------------------------------------------------------------------------------------------

const oidcCallback = provider.callback();

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", issuer);
  const m = INTERACTION.exec(url.pathname);
  if (!m) return oidcCallback(req, res);
  handleInteraction(req, res, m[1]!, m[2]).catch((err: Error) => {
    if (!res.headersSent) {
      send(res, 400, page("Sign-in error", `<h1>Sign-in error</h1><p role="alert">${escapeHtml(err.message)}</p>`));
    }
  });
});

server.listen(port, host, () => {
  console.log(`oidc-provider ready ${issuer} (client ${clientId}${testUsers ? ", test users" : ""})`);
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
