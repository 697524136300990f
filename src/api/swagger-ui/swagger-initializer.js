// Shows maskd's own document; "Authorize" takes the token from POST /login.
window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/masking/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
};
