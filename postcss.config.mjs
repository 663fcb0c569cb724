/** Tailwind CSS v4 through its PostCSS plugin (the only PostCSS step the app needs). */
const config = {
  plugins: {
    "@tailwindcss/postcss": {},
  },
};

export default config;
