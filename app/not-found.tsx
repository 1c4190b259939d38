export default function NotFound() {
  return (
    <main className="message">
      <div className="card" role="alert">
        <h1>Nothing here</h1>
        <p>This address does not match anything in Gradesync. Open the tool from your course instead.</p>
      </div>
    </main>
  );
}
