import { defineConfig } from "vite";
import solid from "vite-plugin-solid";
import { VitePWA } from "vite-plugin-pwa";

const worker = process.env.OCWEB_WORKER_URL ?? "http://127.0.0.1:8787";

export default defineConfig({
  root: "ui",
  plugins: [
    solid(),
    VitePWA({
      // Our own service worker (ui/src/sw.ts): the precache and navigation fallback, plus push and notification clicks.
      strategies: "injectManifest",
      srcDir: "src",
      filename: "sw.ts",
      registerType: "prompt",
      injectRegister: false,
      manifest: {
        name: "ocweb",
        short_name: "ocweb",
        description: "Your coding agent, from your phone",
        start_url: "/",
        display: "standalone",
        background_color: "#0b0d10",
        theme_color: "#0b0d10",
        // Share a GitHub URL or text from another app → /share → a new chat prefilled with it.
        share_target: { action: "/share", method: "GET", params: { title: "title", text: "text", url: "url" } },
        icons: [
          { src: "/icon-192.png", sizes: "192x192", type: "image/png" },
          { src: "/icon-512.png", sizes: "512x512", type: "image/png" },
          { src: "/icon-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
        ],
      },
      // The shell only (what the build emits); sw.ts routes nothing else, so /api, /auth and streams stay on the network.
      injectManifest: { globPatterns: ["**/*.{js,css,html,svg,png,webmanifest}"], rollupFormat: "iife" },
    }),
  ],
  // OCWEB_UI_DIST: another output folder, so parallel test runs do not empty each other's build.
  build: { outDir: process.env.OCWEB_UI_DIST ?? "dist", emptyOutDir: true, target: "es2022" },
  // `vite` (npm run dev:ui) proxies to the worker; keep Host so its same-origin check passes.
  server: { proxy: { "/api": { target: worker, ws: false }, "/auth": { target: worker } } },
});
