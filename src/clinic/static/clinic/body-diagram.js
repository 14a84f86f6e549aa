// The body diagram of the examination form (records/_body_diagram.svg.html): each body site
// is a checkbox (role="checkbox", aria-checked) toggled by click, Space or Enter, and kept in
// step with the form's "Involved" box for that site, which is what is submitted. Without
// JavaScript the diagram stays hidden and the form alone works.
(function () {
  "use strict";
  var figure = document.querySelector("[data-body-diagram]");
  if (!figure) {
    return;
  }
  var boxes = {};
  document.querySelectorAll("input[data-involved]").forEach(function (box) {
    boxes[box.getAttribute("data-involved")] = box;
  });

  function show(shape, checked) {
    shape.setAttribute("aria-checked", checked ? "true" : "false");
  }

  figure.querySelectorAll("[data-site]").forEach(function (shape) {
    var box = boxes[shape.getAttribute("data-site")];
    if (!box) {
      return;
    }
    function toggle() {
      box.checked = !box.checked;
      show(shape, box.checked);
      box.dispatchEvent(new Event("change", { bubbles: true }));
    }
    show(shape, box.checked);
    shape.addEventListener("click", toggle);
    shape.addEventListener("keydown", function (event) {
      if (event.key === " " || event.key === "Enter" || event.key === "Spacebar") {
        event.preventDefault();
        toggle();
      }
    });
    box.addEventListener("change", function () {
      show(shape, box.checked);
    });
  });
  figure.hidden = false;
  if (figure.parentElement) {
    figure.parentElement.classList.add("with-diagram");
  }
})();
